/**
 * The proxy plugin: forwards the request to a replica of the routed
 * variant over pooled keep-alive connections. A connection failure (or a
 * 503 from a worker that is not ready) moves on to the next replica, then
 * to the model's stable variant; an open circuit breaker skips a replica.
 * A response timeout is a 504; nothing healthy left is a 503.
 */
import { Readable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../../http/gateway-error.ts';
import { readBody } from '../../http/read-body.ts';
import type { VariantRoute } from '../../routing/fleet-topology.ts';
import type { Upstream } from '../../upstream/upstream-pool.ts';
import { clientResponseHeaders, UPSTREAM_VARIANT_HEADER, upstreamRequestHeaders } from './forward-headers.ts';

/** Used when no body-limit plugin ran before the proxy. */
const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/** Responses up to this size are read whole; larger ones stream through. */
const BUFFER_LIMIT = 1024 * 1024;
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body as sent upstream (the shadow plugin re-sends it). */
    requestBody: Uint8Array | undefined;
  }
}

export interface ProxyObserver {
  attempt(model: string, variant: string, outcome: 'ok' | 'retry' | 'timeout'): void;
}

export interface ProxyOptions {
  /** Time to the upstream's response headers. */
  responseTimeoutMs: number;
  /** The upstream path for the routed version, e.g. `/v2/models/m/versions/2/infer`. */
  pathFor: (c: Context, version: number) => string;
  observer?: ProxyObserver;
}

function errorCode(error: unknown): string {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? '';
}

function* candidates(primary: VariantRoute, fallback: VariantRoute | undefined, start: number): Generator<[VariantRoute, Upstream]> {
  const n = primary.upstreams.length;
  for (let i = 0; i < n; i++) yield [primary, primary.upstreams[(start + i) % n] as Upstream];
  if (fallback && fallback !== primary) for (const u of fallback.upstreams) yield [fallback, u];
}

export function proxy(options: ProxyOptions): MiddlewareHandler {
  const { responseTimeoutMs, pathFor, observer } = options;
  const cursor = new WeakMap<VariantRoute, number>();

  async function toResponse(res: Dispatcher.ResponseData): Promise<Response> {
    const headers = clientResponseHeaders(res.headers);
    const length = Number(res.headers['content-length']);
    if (Number.isFinite(length) && length <= BUFFER_LIMIT) {
      // A Uint8Array body lets the Node adapter write the response without building a web Response.
      return new Response(res.statusCode === 204 ? null : new Uint8Array(await res.body.arrayBuffer()), { status: res.statusCode, headers });
    }
    return new Response(Readable.toWeb(res.body) as ReadableStream, { status: res.statusCode, headers });
  }

  return async function proxyMiddleware(c) {
    const decision = c.get('route');
    const { model, variant, reason } = decision;
    const method = c.req.method;
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(c, c.get('bodyLimit') ?? DEFAULT_BODY_LIMIT);
    c.set('requestBody', body);
    const headers = upstreamRequestHeaders(c.req.raw.headers, c.get('requestId'), variant.name);
    // Pinned and overridden requests must not silently land elsewhere.
    const fallback = reason === 'split' ? model.variants.get(model.stable) : undefined;
    const start = cursor.get(variant) ?? 0;
    cursor.set(variant, start + 1);

    const tried: string[] = [];
    for (const [target, upstream] of candidates(variant, fallback, start)) {
      if (!upstream.available()) {
        tried.push(`${upstream.url} (${upstream.healthy === false ? 'unhealthy' : 'circuit open'})`);
        continue;
      }
      // A fallback attempt goes to the stable variant and says so.
      headers[UPSTREAM_VARIANT_HEADER] = target.name;
      let res: Dispatcher.ResponseData;
      try {
        res = await upstream.pool.request({ path: pathFor(c, target.version), method: method, headers, body, headersTimeout: responseTimeoutMs, bodyTimeout: responseTimeoutMs });
      } catch (error) {
        upstream.breaker.failure();
        const code = errorCode(error);
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
          observer?.attempt(model.name, target.name, 'timeout');
          throw new GatewayError(504, `model '${model.name}' (variant '${target.name}') did not answer within ${responseTimeoutMs} ms`);
        }
        if (!RETRYABLE_CODES.has(code)) throw error;
        upstream.healthy = false;
        observer?.attempt(model.name, target.name, 'retry');
        trace.getActiveSpan()?.addEvent('upstream retry', { 'server.address': upstream.url, 'error.type': code });
        tried.push(`${upstream.url} (${code})`);
        continue;
      }
      if (res.statusCode === 503) {
        // Not ready (loading or draining): another replica may be.
        upstream.breaker.failure();
        await res.body.dump();
        observer?.attempt(model.name, target.name, 'retry');
        tried.push(`${upstream.url} (503)`);
        continue;
      }
      if (res.statusCode >= 500) upstream.breaker.failure();
      else upstream.breaker.success();
      observer?.attempt(model.name, target.name, 'ok');
      if (target !== variant) c.set('route', { ...decision, variant: target });
      return toResponse(res);
    }
    throw new GatewayError(503, `no healthy upstream for model '${model.name}' (variant '${variant.name}'); tried ${tried.join(', ') || 'nothing'}`, { 'Retry-After': '1' });
  };
}
