/**
 * The request-id plugin: accepts a sane `x-request-id` from the caller or
 * mints one, shares it with later plugins and echoes it on the response.
 */
import { headerOf } from '@switchyard/observability/runtime-bindings';
import type { MiddlewareHandler } from 'hono';

const SANE_ID = /^[\w.:-]{1,128}$/;

export function requestId(): MiddlewareHandler {
  return async function requestIdMiddleware(c, next) {
    const given = headerOf(c, 'x-request-id');
    const id = given !== undefined && SANE_ID.test(given) ? given : crypto.randomUUID();
    c.set('requestId', id);
    await next();
    c.res.headers.set('x-request-id', id);
  };
}
