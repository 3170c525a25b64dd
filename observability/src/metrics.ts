/**
 * Per-app metrics: an OTel MeterProvider whose reader is the Prometheus
 * exporter, rendered on demand for a `/metrics` route. Each app instance owns
 * its provider, so instances (and tests) never share counters.
 */
import type { Meter } from '@opentelemetry/api';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InstrumentType, MeterProvider, MetricReader, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { FastInstruments } from './fast-instruments.ts';
import { registerProcessMetrics } from './process-metrics.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** `# UNIT` is OpenMetrics only; the 0.0.4 text format served here has no such line. */
const UNIT_LINE = /^# UNIT .*\n/gm;

/**
 * The reader behind `/metrics`, collecting on each scrape. Counters and
 * histograms are cumulative, as Prometheus expects. Observable gauges are
 * delta: a scrape shows only what the callbacks observed this time, so a
 * series that stops being observed (a finished rollout's guards, an upstream
 * a reload removed) disappears instead of repeating its last value forever.
 */
class ScrapeReader extends MetricReader {
  constructor(producers: MetricProducer[]) {
    super({
      metricProducers: producers,
      aggregationTemporalitySelector: (type) => (type === InstrumentType.OBSERVABLE_GAUGE ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE),
    });
  }

  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface MetricsRegistry {
  meter: Meter;
  /** Counters and histograms for the request path (see `fast-instruments.ts`), in the same `/metrics`. */
  fast: FastInstruments;
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
  const resource = resourceFromAttributes({ 'service.name': service });
  const fast = new FastInstruments(meterName, resource);
  const exporter = new ScrapeReader([fast]);
  const provider = new MeterProvider({ resource, readers: [exporter] });
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
    fast,
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
