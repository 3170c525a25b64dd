/**
 * A client that goes away before its answer: nginx's 499 "client closed
 * request". It is the client's outcome (counted and logged as 499), never a
 * 500 and never held against the variant that was serving it.
 */
import type { Context } from 'hono';
import { bindingsOf } from '@switchyard/observability/runtime-bindings';

export const CLIENT_CLOSED_REQUEST = 499;

export class ClientClosedRequest extends Error {
  override name = 'ClientClosedRequest';

  constructor(cause?: unknown) {
    super('client closed request', { cause });
  }
}

/**
 * Has the client's connection gone? The host's `clientGone` binding says
 * when there is one (on Node, with no web `Request` built for it);
 * otherwise the request's abort signal.
 */
export function clientGone(c: Context): boolean {
  const gone = bindingsOf(c)?.clientGone?.();
  return gone ?? c.req.raw.signal.aborted;
}
