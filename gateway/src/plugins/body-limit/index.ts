/**
 * The body-limit plugin: a declared `content-length` over the limit is a
 * 413 before any of the body is read; a body without one is counted while
 * it is read (see `readBody`), and refused the moment it passes the limit.
 */
import { headerOf } from '@switchyard/observability/runtime-bindings';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../http/gateway-error.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** Largest body a later plugin may read. */
    bodyLimit: number;
  }
}

export interface BodyLimitOptions {
  maxBytes: number;
}

export function bodyLimit({ maxBytes }: BodyLimitOptions): MiddlewareHandler {
  if (!(maxBytes > 0)) throw new Error('bodyLimit: maxBytes must be positive');
  return async function bodyLimitMiddleware(c, next) {
    const declared = headerOf(c, 'content-length');
    if (declared !== undefined && Number(declared) > maxBytes) throw new GatewayError(413, `request body exceeds ${maxBytes} bytes`);
    c.set('bodyLimit', maxBytes);
    await next();
  };
}
