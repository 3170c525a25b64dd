/**
 * Hono middleware that opens an HTTP server span per request, continuing
 * the caller's W3C trace context and following the OTel HTTP semantic
 * conventions. Uses only `@opentelemetry/api`: without a registered SDK the
 * spans are no-ops. Health polls, readiness checks and scrapes are not
 * traced unless the caller's trace context says they belong to a trace.
 */
import { context, isSpanContextValid, propagation, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { headerCarrier } from './runtime-bindings.ts';

/** Health polls, readiness checks and metric scrapes: routine traffic that would otherwise fill the trace store with one-span traces. */
const PROBE_PATH = /^\/(?:metrics|v2\/health\/(?:live|ready)|v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/ready)$/;

/** True for a path that polls health or readiness, or scrapes metrics. */
export function isProbePath(path: string): boolean {
  return PROBE_PATH.test(path);
}

const headerGetter: TextMapGetter<ReturnType<typeof headerCarrier>> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => carrier.get(key),
};

/**
 * Whether the current request has a trace context of this service's own:
 * a span whose context is valid, sampled or not (its flags say which).
 * Outgoing calls then carry that context, never the caller's as it came,
 * so the service's sampling decision travels on. False with tracing off.
 */
export function inOwnTrace(): boolean {
  const span = trace.getActiveSpan();
  return span !== undefined && isSpanContextValid(span.spanContext());
}

export interface ServerSpanOptions {
  /** Instrumentation scope name. Default `switchyard`. */
  tracerName?: string;
}

export function serverSpan(options: ServerSpanOptions = {}): MiddlewareHandler {
  const tracer = trace.getTracer(options.tracerName ?? 'switchyard');
  return async function serverSpanMiddleware(c, next) {
    const parent = propagation.extract(context.active(), headerCarrier(c), headerGetter);
    // A probe starts no trace of its own; one that is part of a caller's trace is still traced.
    if (isProbePath(c.req.path) && !trace.getSpanContext(parent)) return next();
    const method = c.req.method;
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': method, 'url.path': c.req.path, 'url.scheme': c.req.url.startsWith('https:') ? 'https' : 'http' },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = routePath(c, -1);
      const status = c.res.status;
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
}
