/**
 * The edge-worker plugin: runs the routed variant's edge worker (the
 * variant's own, or else the model's) in the request path, after auth, rate
 * limit and routing and before shadow and proxy. The module gets the
 * request without credential headers, `ctx` (request id, model, variant,
 * subject, tenant) and `env.MODEL`, whose calls come back through the
 * gateway's model binding into `modelCall` — this gateway's shadow and
 * proxy for the variant already chosen.
 *
 * A module that times out (its process is killed), crashes, throws or sits
 * behind an open breaker is handled by the worker's failure policy: `fail`
 * answers 504 (timeout) or 502, `bypass` sends the original request on to
 * the model as if no edge worker were configured.
 */
import { context, propagation, SpanKind, trace, type TextMapGetter } from '@opentelemetry/api';
import type { RuntimeBindings } from '@switchyard/observability/runtime-bindings';
import { inOwnTrace } from '@switchyard/observability/tracing';
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { EDGE_CALL_HEADER, EDGE_CONTEXT_HEADER, EDGE_ERROR_HEADER, EDGE_TOKEN_HEADER, type EdgeContext } from '../../edge/contract.ts';
import { EdgeFailure } from '../../edge/edge-host.ts';
import type { EdgeWorker, EdgeWorkers } from '../../edge/edge-workers.ts';
import { GatewayError } from '../../http/gateway-error.ts';
import { readBody } from '../../http/read-body.ts';
import type { Principal } from '../../principal.ts';
import type { RouteDecision } from '../route/index.ts';
import { clientResponseHeaders } from '../proxy/forward-headers.ts';

/** Used when no body-limit plugin ran before. */
const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/** Never shown to a module: credentials, and headers that describe the client connection. */
const WITHHELD = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', EDGE_CONTEXT_HEADER, EDGE_CALL_HEADER, EDGE_TOKEN_HEADER]);
export const EDGE_WORKER_HEADER = 'x-switchyard-edge-worker';

/** Reads trace context from a plain header object (Node's, or one made from a web `Headers`). */
const carrierGetter: TextMapGetter<Record<string, string | string[] | undefined>> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};

export type EdgeOutcome = 'ok' | 'timeout' | 'crash' | 'exception' | 'unavailable' | 'circuit_open';

export interface EdgeObserver {
  edgeRequest(worker: string, outcome: EdgeOutcome, seconds: number): void;
}

/** What a binding call needs from the gateway request it belongs to. */
export interface EdgeCall {
  requestId: string;
  route: RouteDecision;
  principal: Principal | undefined;
  bodyLimit: number;
}

export interface EdgeWorkerOptions {
  workers: EdgeWorkers;
  /**
   * Serves the module's `env.MODEL` calls: the gateway's shadow and proxy, for `call.route`.
   * `bindings` are the host's for the call's HTTP request, when it passes any.
   */
  modelCall: (request: Request, call: EdgeCall, bindings: RuntimeBindings | undefined) => Promise<Response>;
  observer?: EdgeObserver;
  /** Run this worker whatever the variant (a path owned by one worker, `routes[].edge_worker`). Default: the variant's. */
  worker?: string;
}

function moduleHeaders(incoming: Headers, requestId: string, ctx: EdgeContext, callId: string): Record<string, string> {
  const headers: Record<string, string> = {};
  incoming.forEach((value, name) => {
    if (!WITHHELD.has(name)) headers[name] = value;
  });
  // With tracing on, the edge worker's span continues this request's span, not the caller's, and
  // follows this gateway's sampling decision (an unsampled request's span context says so too).
  if (inOwnTrace()) {
    delete headers.traceparent;
    delete headers.tracestate;
    propagation.inject(context.active(), headers);
  }
  headers['x-request-id'] = requestId;
  headers[EDGE_CONTEXT_HEADER] = JSON.stringify(ctx);
  headers[EDGE_CALL_HEADER] = callId;
  return headers;
}

export function edgeWorker(options: EdgeWorkerOptions): MiddlewareHandler {
  const { workers, modelCall, observer, worker: fixed } = options;
  const tracer = trace.getTracer('switchyard-gateway');

  async function failed(c: Context, next: Next, worker: EdgeWorker, outcome: Exclude<EdgeOutcome, 'ok'>, detail: string): Promise<void> {
    trace.getActiveSpan()?.addEvent('edge worker failed', { 'switchyard.edge_worker': worker.name, 'error.type': outcome });
    if (worker.spec.failure === 'bypass') {
      await next();
      c.res.headers.set(EDGE_WORKER_HEADER, `${worker.name}; bypassed=${outcome}`);
      return;
    }
    throw new GatewayError(outcome === 'timeout' ? 504 : 502, `edge worker '${worker.name}' ${detail}`);
  }

  return async function edgeWorkerMiddleware(c, next) {
    const decision = c.get('route');
    const name = fixed ?? decision.variant.edgeWorker;
    if (name === undefined) return next();
    const method = c.req.method;
    const bodyLimit = c.get('bodyLimit') ?? DEFAULT_BODY_LIMIT;
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(c, bodyLimit);
    // The proxy sends this same body when the policy bypasses the worker.
    c.set('requestBody', body);
    // Looked up after the body has arrived, with no await until `dispatch` counts the request
    // in flight: a reload that retires this process waits for it rather than cutting it off.
    const worker = workers.get(name);
    if (!worker) throw new GatewayError(503, `edge worker '${name}' is not running`);
    const started = performance.now();
    if (!worker.breaker.allow()) {
      observer?.edgeRequest(name, 'circuit_open', 0);
      return failed(c, next, worker, 'circuit_open', 'is unavailable (circuit open after repeated failures)');
    }
    const requestId = c.get('requestId');
    const principal = c.get('principal') as Principal | undefined;
    const ctx: EdgeContext = { requestId, model: decision.model.name, variant: decision.variant.name, subject: principal?.subject ?? 'anonymous', tenant: principal?.tenant ?? 'anonymous' };
    const call: EdgeCall = { requestId, route: decision, principal, bodyLimit };
    // Binding calls arrive on another socket, each in a span of its own: under the trace context the call
    // carries (the edge worker's span when its host traces), else under this request's span.
    const active = context.active();
    const callId = workers.openCall((request, bindings) => {
      const parent = propagation.extract(active, bindings?.headers?.() ?? Object.fromEntries(request.headers), carrierGetter);
      return tracer.startActiveSpan('edge worker model binding', { kind: SpanKind.SERVER, attributes: { 'switchyard.edge_worker': name } }, parent, async (span) => {
        try {
          return await modelCall(request, call, bindings);
        } finally {
          span.end();
        }
      });
    });
    const query = new URL(c.req.url).search;
    try {
      const res = await worker.process.dispatch({ path: `${c.req.path}${query}`, method, headers: moduleHeaders(c.req.raw.headers, requestId, ctx, callId), body: body ?? null }, worker.spec.timeout_ms);
      const seconds = (performance.now() - started) / 1000;
      if (res.headers[EDGE_ERROR_HEADER] !== undefined) {
        worker.breaker.failure();
        observer?.edgeRequest(name, 'exception', seconds);
        const message = (JSON.parse(new TextDecoder().decode(res.body)) as { error?: string }).error ?? 'unknown error';
        return failed(c, next, worker, 'exception', `threw: ${message}`);
      }
      worker.breaker.success();
      observer?.edgeRequest(name, 'ok', seconds);
      const headers = clientResponseHeaders(res.headers);
      headers[EDGE_WORKER_HEADER] = name;
      if (res.status === 204 || res.status === 304) return c.body(null, res.status, headers);
      return c.body(res.body as Uint8Array<ArrayBuffer>, res.status as ContentfulStatusCode, headers);
    } catch (error) {
      if (!(error instanceof EdgeFailure)) throw error;
      worker.breaker.failure();
      observer?.edgeRequest(name, error.kind, (performance.now() - started) / 1000);
      return failed(c, next, worker, error.kind, error.message);
    } finally {
      workers.closeCall(callId);
    }
  };
}
