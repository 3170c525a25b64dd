/**
 * A client that goes away before its answer: nginx's 499 "client closed
 * request". It is the client's outcome (counted and logged as 499), never a
 * 500 and never held against the variant that was serving it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';

export const CLIENT_CLOSED_REQUEST = 499;

export class ClientClosedRequest extends Error {
  override name = 'ClientClosedRequest';

  constructor(cause?: unknown) {
    super('client closed request', { cause });
  }
}

/**
 * Has the client's connection gone? On Node, read from the adapter's
 * request and response (no web `Request` is built for it); elsewhere from
 * the request's abort signal.
 */
export function clientGone(c: Context): boolean {
  const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
  if (env?.outgoing) return env.outgoing.destroyed || env.outgoing.socket?.destroyed === true;
  return c.req.raw.signal.aborted;
}
