/**
 * Process health for every service, named as Prometheus client libraries
 * name it: CPU seconds, start time, resident memory, heap, and the
 * event-loop delay as a histogram (so `histogram_quantile` over any window
 * works, and replicas aggregate).
 *
 * The delay is sampled by Node's `monitorEventLoopDelay` (native, every
 * `RESOLUTION_MS`); once a second its samples are folded into the OTel
 * histogram by bucket (each counted at its bucket's upper bound, so `_sum`
 * is an upper estimate), and the native histogram starts over.
 */
import type { Histogram, Meter } from '@opentelemetry/api';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

const RESOLUTION_MS = 10;
const FOLD_INTERVAL_MS = 1000;
export const EVENT_LOOP_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * Adds the samples of `native` to `histogram`: per bucket, how many samples
 * were at most its bound (from the native percentiles), minus the timer's
 * own resolution, which Node includes in every sample.
 */
export function foldDelays(native: Pick<IntervalHistogram, 'count' | 'percentiles' | 'max'>, histogram: Pick<Histogram, 'record'>, resolutionMs = RESOLUTION_MS): void {
  const total = native.count;
  if (total === 0) return;
  const points = [...native.percentiles.entries()].sort((a, b) => a[0] - b[0]);
  const resolutionNs = resolutionMs * 1e6;
  let counted = 0;
  for (const bound of EVENT_LOOP_BUCKETS_S) {
    let share = 0;
    for (const [percentile, ns] of points) if (ns - resolutionNs <= bound * 1e9) share = percentile / 100;
    const upTo = Math.round(share * total);
    for (; counted < upTo; counted++) histogram.record(bound);
  }
  const over = Math.max(0, (native.max - resolutionNs) / 1e9);
  for (; counted < total; counted++) histogram.record(over);
}

/** Registers the instruments; returns a function that stops the event-loop monitor. */
export function registerProcessMetrics(meter: Meter): () => void {
  const cpu = meter.createObservableCounter('process_cpu_seconds', { description: 'CPU time used by the process (user + system)', unit: 's' });
  const start = meter.createObservableGauge('process_start_time_seconds', { description: 'Start time of the process since the Unix epoch', unit: 's' });
  const rss = meter.createObservableGauge('process_resident_memory_bytes', { description: 'Resident set size', unit: 'By' });
  const heap = meter.createObservableGauge('nodejs_heap_used_bytes', { description: 'V8 heap in use', unit: 'By' });
  const delay = meter.createHistogram('nodejs_eventloop_delay_seconds', {
    description: 'Event-loop delay (how late a timer fired), sampled every 10 ms', unit: 's', advice: { explicitBucketBoundaries: EVENT_LOOP_BUCKETS_S },
  });
  const startedAt = performance.timeOrigin / 1000;
  meter.addBatchObservableCallback((result) => {
    const usage = process.cpuUsage();
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    result.observe(start, startedAt);
    const memory = process.memoryUsage();
    result.observe(rss, memory.rss);
    result.observe(heap, memory.heapUsed);
  }, [cpu, start, rss, heap]);

  const native = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  native.enable();
  const fold = setInterval(() => {
    foldDelays(native, delay);
    native.reset();
  }, FOLD_INTERVAL_MS);
  fold.unref();
  return () => {
    clearInterval(fold);
    native.disable();
  };
}
