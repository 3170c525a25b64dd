/**
 * Telemetry start-up for a Switchyard service's Node entry: the OTel Node
 * SDK with resource attributes, W3C propagation and an OTLP trace exporter
 * chosen by the standard `OTEL_*` variables. With no exporter configured the
 * SDK is not started at all (spans are no-ops, logs carry no trace ids). Metrics are served by each app on `/metrics`, and
 * logs go to stdout (pino), so the SDK starts no metric or log exporters.
 */
import { diag, DiagConsoleLogger, DiagLogLevel, propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { hostname } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BoundedSpanProcessor, type SpanCounts } from './bounded-export.ts';
import { isProbePath } from './tracing.ts';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  /** Extra resource attributes, e.g. `switchyard.model`, `switchyard.variant`, `switchyard.pool`. */
  attributes?: Record<string, string>;
  /** The environment to read `OTEL_*` variables from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** True when spans are exported somewhere. */
  readonly exporting: boolean;
  /** Spans lost so far (queue full, or the exporter failed). */
  spanCounts(): SpanCounts;
  /** Flushes and stops exporting; waits at most `timeoutMs`. Safe to call more than once. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Decides from `OTEL_*` variables whether spans should be exported. */
export function tracesExportConfigured(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (exporters.includes('none')) return false;
  if (exporters.length > 0) return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/** The OTLP/HTTP exporter the environment asks for, behind a bounded processor; undefined for other exporters. */
function otlpProcessor(env: NodeJS.ProcessEnv): BoundedSpanProcessor | undefined {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((s) => s.trim());
  if (exporters.length !== 1 || exporters[0] !== 'otlp') return undefined;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol === 'http/json') return new BoundedSpanProcessor(new OTLPJsonTraceExporter(), { maxPending: Number(env.OTEL_BSP_MAX_QUEUE_SIZE ?? 2048) });
  if (protocol === 'http/protobuf') return new BoundedSpanProcessor(new OTLPProtoTraceExporter(), { maxPending: Number(env.OTEL_BSP_MAX_QUEUE_SIZE ?? 2048) });
  return undefined;
}

/** Starts the SDK. Call before the app module is imported. */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const { serviceName, serviceVersion, attributes = {}, env = process.env } = options;
  if (env.OTEL_LOG_LEVEL === 'debug') diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.DEBUG);
  const exporting = tracesExportConfigured(env);
  if (!exporting) {
    // Nothing to export: skip the SDK and its async context tracking, which costs
    // every promise on Node 20. W3C propagation still works for forwarded headers.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    return { exporting, spanCounts: () => ({ dropped: 0, failed: 0 }), shutdown: () => Promise.resolve() };
  }
  const processor = otlpProcessor(env);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    resource: resourceFromAttributes({ 'service.version': serviceVersion, 'service.instance.id': `${hostname()}:${process.pid}`, ...attributes }),
    // OTLP over HTTP goes through a bounded, counting processor; other exporters come from OTEL_TRACES_EXPORTER.
    ...(processor ? { spanProcessors: [processor] } : {}),
    metricReaders: [],
    logRecordProcessors: [],
    // Outgoing HTTP through undici (gateway → worker) and Redis calls; server spans come from our middleware.
    // Health polls of upstreams start no traces; Redis calls outside a request (flag sync, leases) neither.
    // ioredis is loaded through ESM import: it is patched only when the entry ran with
    // `--import @switchyard/observability/register` (see register.ts).
    instrumentations: [
      new UndiciInstrumentation({ ignoreRequestHook: (request) => isProbePath(request.path.split('?')[0] ?? '') }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  return {
    exporting,
    spanCounts: () => processor?.counts ?? { dropped: 0, failed: 0 },
    shutdown(timeoutMs = 5000): Promise<void> {
      stopping ??= Promise.race([
        sdk.shutdown().catch((error: unknown) => diag.warn('telemetry shutdown failed', error)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
      return stopping;
    },
  };
}
