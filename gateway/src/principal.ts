/** Who is calling, as established by the auth plugin, and what the pipeline shares about a request. */

export interface Principal {
  /** Stable id of the caller: the API key's subject or id, or the JWT `sub`. */
  subject: string;
  tenant: string;
  scopes: readonly string[];
  /** How the caller authenticated. */
  method: 'api_key' | 'jwt';
  /** The API key's id, when one was used. */
  keyId?: string;
}

/** May `principal` call `model`? (`infer:<model>` or `infer:*`) */
export function canInfer(principal: Principal, model: string): boolean {
  return principal.scopes.includes('infer:*') || principal.scopes.includes(`infer:${model}`);
}

/** Scope that lets a caller choose a variant with the override header. */
export const OVERRIDE_SCOPE = 'variant:override';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
    requestId: string;
  }
}
