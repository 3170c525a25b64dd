/**
 * Per-app metrics: an OTel MeterProvider whose reader is the Prometheus
 * exporter, rendered on demand for a `/metrics` route. Each app instance owns
 * its provider, so instances (and tests) never share counters.
 */
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { registerProcessMetrics } from './process-metrics.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** `# UNIT` is OpenMetrics only; the 0.0.4 text format served here has no such line. */
const UNIT_LINE = /^# UNIT .*\n/gm;

export interface MetricsRegistry {
  meter: Meter;
  /** The current values in Prometheus text exposition format. */
  render(): Promise<string>;
  shutdown(): Promise<void>;
}

export interface MetricsOptions {
  service: string;
  /** Spans lost by the telemetry exporter, reported as `switchyard_telemetry_spans_lost_total`. */
  spanCounts?: () => { dropped: number; failed: number };
  /** Default `switchyard`. */
  meterName?: string;
}

export function createMetricsRegistry(options: MetricsOptions): MetricsRegistry {
  const { service, meterName = 'switchyard', spanCounts } = options;
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [exporter] });
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  const stopProcessMetrics = registerProcessMetrics(provider.getMeter('switchyard-process'));
  if (spanCounts) {
    const lost = provider.getMeter('switchyard-telemetry').createObservableCounter('switchyard_telemetry_spans_lost', { description: 'Spans not exported: queue full (dropped) or exporter failed' });
    lost.addCallback((result) => {
      const { dropped, failed } = spanCounts();
      result.observe(dropped, { reason: 'queue_full' });
      result.observe(failed, { reason: 'export_failed' });
    });
  }
  return {
    meter: provider.getMeter(meterName),
    async render(): Promise<string> {
      const { resourceMetrics, errors } = await exporter.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return serializer.serialize(resourceMetrics).replace(UNIT_LINE, '');
    },
    shutdown: () => {
      stopProcessMetrics();
      return provider.shutdown();
    },
  };
}
