/** Which request headers go upstream, and which response headers come back. */
import { inOwnTrace } from '@switchyard/observability/tracing';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Content negotiation (including Triton's binary tensor framing and
 * compression: the body is forwarded as sent, the worker decodes it),
 * request id and trace context.
 */
const REQUEST_HEADERS = [
  'content-type', 'content-encoding', 'accept', 'accept-encoding', 'inference-header-content-length',
  'x-request-id', 'traceparent', 'tracestate',
] as const;
/** Names the variant a request was sent to, for worker logs and mesh telemetry (DESIGN: "In a cluster"). */
export const UPSTREAM_VARIANT_HEADER = 'x-switchyard-variant';
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/**
 * Upstream headers: content negotiation, request id, trace context and the
 * variant the gateway chose (`x-switchyard-variant`; the caller's own
 * override header is never passed through as it came). Never credentials. With tracing on, the undici instrumentation writes
 * `traceparent` for its client span, sampled or not (a second copy would
 * break the trace, and an unsampled request's workers would start traces
 * of their own); with tracing off, the caller's trace context is passed
 * through as it came.
 */
export function upstreamRequestHeaders(incoming: (name: string) => string | null | undefined, requestId: string, variant: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // Sampled or not: the instrumentation writes the request's trace context either way (flags say which).
  const tracing = inOwnTrace();
  for (const name of REQUEST_HEADERS) {
    if (tracing && (name === 'traceparent' || name === 'tracestate')) continue;
    const value = incoming(name);
    if (value !== null && value !== undefined) headers[name] = value;
  }
  headers['x-request-id'] = requestId;
  headers[UPSTREAM_VARIANT_HEADER] = variant;
  return headers;
}

/** A plain record (not `Headers`), which the Node adapter writes without conversion. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
