/**
 * Process health for every service: CPU seconds, resident memory, heap,
 * and event-loop delay (p50, p99, max over the last scrape interval).
 */
import type { Meter } from '@opentelemetry/api';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Registers the gauges; returns a function that stops the event-loop monitor. */
export function registerProcessMetrics(meter: Meter): () => void {
  const cpu = meter.createObservableCounter('process_cpu_seconds', { description: 'CPU time used by the process (user + system)', unit: 's' });
  const rss = meter.createObservableGauge('process_resident_memory_bytes', { description: 'Resident set size', unit: 'By' });
  const heap = meter.createObservableGauge('nodejs_heap_used_bytes', { description: 'V8 heap in use', unit: 'By' });
  const delay = meter.createObservableGauge('nodejs_eventloop_delay_seconds', { description: 'Event-loop delay since the last scrape, by quantile', unit: 's' });
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  meter.addBatchObservableCallback((result) => {
    const usage = process.cpuUsage();
    result.observe(cpu, (usage.user + usage.system) / 1e6);
    const memory = process.memoryUsage();
    result.observe(rss, memory.rss);
    result.observe(heap, memory.heapUsed);
    if (histogram.count > 0) {
      result.observe(delay, histogram.percentile(50) / 1e9, { quantile: '0.5' });
      result.observe(delay, histogram.percentile(99) / 1e9, { quantile: '0.99' });
      result.observe(delay, histogram.max / 1e9, { quantile: '1' });
    }
    histogram.reset();
  }, [cpu, rss, heap, delay]);
  return () => histogram.disable();
}
