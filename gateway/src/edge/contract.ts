/**
 * The edge-worker contract, as types for module authors
 * (`import type { EdgeWorker } from '@switchyard/gateway/edge'`).
 *
 * A module's default export has `fetch(request, env, ctx)`. It runs in its
 * own Deno process after the gateway has authenticated, rate-limited and
 * routed the request, and before the model. The request it sees has no
 * credential headers (`authorization`, `x-api-key`, `cookie`,
 * `proxy-authorization`).
 */

/** Calls the variant this request was routed to, through the gateway's proxy (retries, breakers, fallback, shadow). */
export interface ModelBinding {
  /**
   * Sends an inference request to the routed variant. The path names the
   * model as the gateway does (`/v2/models/<model>/infer` or
   * `/v1/models/<model>:predict`); the gateway pins it to the routed
   * variant's version. Another model's path is refused with 403.
   */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
}

/** The module's configured `vars` (strings) and the model binding. */
export type EdgeEnv = { readonly MODEL: ModelBinding } & Readonly<Record<string, string | ModelBinding>>;

/** What the gateway decided about this request. Never credentials. */
export interface EdgeContext {
  readonly requestId: string;
  readonly model: string;
  readonly variant: string;
  /** The authenticated principal's subject, or `anonymous`. */
  readonly subject: string;
  /** The principal's tenant, or `anonymous`. */
  readonly tenant: string;
}

export interface EdgeWorker {
  fetch(request: Request, env: EdgeEnv, ctx: EdgeContext): Response | Promise<Response>;
}

/** Headers the gateway uses between itself and an edge worker's host; never shown to the module. */
export const EDGE_CONTEXT_HEADER = 'x-switchyard-edge-ctx';
export const EDGE_CALL_HEADER = 'x-switchyard-edge-call';
export const EDGE_TOKEN_HEADER = 'x-switchyard-edge-token';
/** Set by the host on a response when the module threw; the value is the kind (`exception`). */
export const EDGE_ERROR_HEADER = 'x-switchyard-edge-error';
