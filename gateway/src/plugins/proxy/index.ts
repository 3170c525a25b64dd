/**
 * The proxy plugin: forwards the request to a replica of the routed
 * variant over pooled keep-alive connections. The body is read whole first,
 * so an attempt can be repeated: a connection failure, a 503 from a worker
 * that is not ready, or no response headers within the per-attempt timeout
 * moves the request on to the next replica, then to the model's stable
 * variant (split traffic only), all within the overall response timeout.
 * An open circuit breaker or known-bad health skips a replica. Nothing
 * answered in time is a 504; nothing healthy left is a 503.
 *
 * No hedging (a second copy sent before the first has failed): inference is
 * CPU-bound on the workers, so a hedge doubles the load at exactly the
 * moment a replica is slow; the per-attempt timeout bounds the tail instead.
 *
 * Each attempt's outcome (status, or 504 for a timeout and 502 for a
 * connection failure, with the time from sending upstream to the response
 * headers) goes to `outcomes`: what rollout guards judge a variant by.
 */
import { Readable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import type { Dispatcher } from 'undici';
import { bytesResponse, headerOf } from '@switchyard/observability/runtime-bindings';
import { GatewayError } from '../../http/gateway-error.ts';
import { readBody } from '../../http/read-body.ts';
import { subjectKey, type Principal } from '../../principal.ts';
import type { VariantRoute } from '../../routing/fleet-topology.ts';
import type { Upstream } from '../../upstream/upstream-pool.ts';
import { clientResponseHeaders, UPSTREAM_VARIANT_HEADER, upstreamRequestHeaders } from './forward-headers.ts';

/** Used when no body-limit plugin ran before the proxy. */
const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/** Responses up to this size are read whole; larger ones stream through. */
const BUFFER_LIMIT = 1024 * 1024;
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Recorded for an attempt that got no answer in time, and for one that could not reach the replica. */
const TIMED_OUT = 504;
const UNREACHABLE = 502;

declare module 'hono' {
  interface ContextVariableMap {
    /** The request body as sent upstream (the shadow plugin re-sends it). */
    requestBody: Uint8Array | undefined;
  }
}

export interface ProxyObserver {
  attempt(model: string, variant: string, outcome: 'ok' | 'retry' | 'timeout'): void;
}

/** What each upstream attempt did, for per-variant stats and rollout guards. */
export interface UpstreamOutcomes {
  /** `status` is the upstream's, or 504 (no answer in time) or 502 (unreachable); `seconds` from sending to the response headers. */
  record(model: string, variant: string, status: number, seconds: number, subject: string): void;
}

export interface ProxyOptions {
  /** Overall time to the upstream's response headers, all attempts together. */
  responseTimeoutMs: number;
  /** Time one attempt waits for response headers before the next replica is tried. Default `responseTimeoutMs`. */
  attemptTimeoutMs?: number;
  /** The upstream path for the routed version, e.g. `/v2/models/m/versions/2/infer`. */
  pathFor: (c: Context, version: number) => string;
  observer?: ProxyObserver;
  outcomes?: UpstreamOutcomes;
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
  const { responseTimeoutMs, attemptTimeoutMs = responseTimeoutMs, pathFor, observer, outcomes } = options;
  if (!(attemptTimeoutMs > 0 && attemptTimeoutMs <= responseTimeoutMs)) throw new Error('proxy: attemptTimeoutMs must be positive and at most responseTimeoutMs');
  const cursor = new WeakMap<VariantRoute, number>();

  async function toResponse(res: Dispatcher.ResponseData, model: string, variant: string): Promise<Response> {
    const headers = clientResponseHeaders(res.headers);
    const length = Number(res.headers['content-length']);
    if (Number.isFinite(length) && length <= BUFFER_LIMIT) {
      let body: Uint8Array<ArrayBuffer> | null = null;
      try {
        if (res.statusCode !== 204) body = new Uint8Array(await res.body.arrayBuffer());
      } catch (error) {
        const code = errorCode(error);
        if (TIMEOUT_CODES.has(code)) throw new GatewayError(504, `model '${model}' (variant '${variant}') stopped sending its answer`);
        throw new GatewayError(502, `model '${model}' (variant '${variant}') broke off its answer (${code || (error as Error).message})`);
      }
      // A Uint8Array body lets the Node adapter write the response without building a web Response,
      // and the gRPC transport read it without a body stream.
      return bytesResponse(body, { status: res.statusCode, headers });
    }
    return new Response(Readable.toWeb(res.body) as ReadableStream, { status: res.statusCode, headers });
  }

  return async function proxyMiddleware(c) {
    const decision = c.get('route');
    const { model, variant, reason } = decision;
    const method = c.req.method;
    // An edge worker that was bypassed has read the body already.
    const body = method === 'GET' || method === 'HEAD' ? undefined : (c.get('requestBody') ?? (await readBody(c, c.get('bodyLimit') ?? DEFAULT_BODY_LIMIT)));
    c.set('requestBody', body);
    const headers = upstreamRequestHeaders((name) => headerOf(c, name), c.get('requestId'), variant.name);
    const principal = c.get('principal') as Principal | undefined;
    const subject = principal ? subjectKey(principal) : 'anonymous';
    // Pinned and overridden requests must not silently land elsewhere.
    const fallback = reason === 'split' ? model.variants.get(model.stable) : undefined;
    const start = cursor.get(variant) ?? 0;
    cursor.set(variant, start + 1);
    const deadline = performance.now() + responseTimeoutMs;

    const tried: string[] = [];
    let timedOut = false;
    for (const [target, upstream] of candidates(variant, fallback, start)) {
      if (!upstream.available()) {
        tried.push(`${upstream.url} (${upstream.healthy === false ? 'unhealthy' : 'circuit open'})`);
        continue;
      }
      const remaining = Math.floor(deadline - performance.now());
      if (remaining < 1) {
        timedOut = true;
        break;
      }
      const timeout = Math.min(attemptTimeoutMs, remaining);
      const sent = performance.now();
      // A fallback attempt goes to the stable variant and says so.
      headers[UPSTREAM_VARIANT_HEADER] = target.name;
      let res: Dispatcher.ResponseData;
      try {
        res = await upstream.pool.request({ path: pathFor(c, target.version), method: method, headers, body, headersTimeout: timeout, bodyTimeout: responseTimeoutMs });
      } catch (error) {
        const seconds = (performance.now() - sent) / 1000;
        const code = errorCode(error);
        if (TIMEOUT_CODES.has(code)) {
          upstream.breaker.failure();
          outcomes?.record(model.name, target.name, TIMED_OUT, seconds, subject);
          observer?.attempt(model.name, target.name, 'timeout');
          trace.getActiveSpan()?.addEvent('upstream retry', { 'server.address': upstream.url, 'error.type': 'timeout' });
          tried.push(`${upstream.url} (no answer within ${timeout} ms)`);
          timedOut = true;
          continue;
        }
        if (!RETRYABLE_CODES.has(code)) throw error;
        upstream.breaker.failure();
        outcomes?.record(model.name, target.name, UNREACHABLE, seconds, subject);
        upstream.setHealth(false, 'proxy', code);
        observer?.attempt(model.name, target.name, 'retry');
        trace.getActiveSpan()?.addEvent('upstream retry', { 'server.address': upstream.url, 'error.type': code });
        tried.push(`${upstream.url} (${code})`);
        continue;
      }
      outcomes?.record(model.name, target.name, res.statusCode, (performance.now() - sent) / 1000, subject);
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
      return toResponse(res, model.name, target.name);
    }
    const attempts = tried.join(', ') || 'nothing';
    if (timedOut) throw new GatewayError(504, `model '${model.name}' (variant '${variant.name}') did not answer within ${responseTimeoutMs} ms; tried ${attempts}`);
    throw new GatewayError(503, `no healthy upstream for model '${model.name}' (variant '${variant.name}'); tried ${attempts}`, { 'Retry-After': '1' });
  };
}
