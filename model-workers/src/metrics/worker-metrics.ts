/**
 * The worker's Prometheus metrics: requests and latency by model, version
 * and status; batch sizes, queue wait, depth and bound; the execution
 * provider in use. Instruments are named as Prometheus exposes them, so
 * dashboards and code use one name. Triton-style counters let average batch
 * size be derived as inferences ÷ executions.
 *
 * The model label is the model this worker was started for; a request for
 * any other name is counted as model and version `unknown`. Counters for a
 * loaded version start at zero, so `increase()` sees the first event.
 */
import type { Histogram, Counter, Meter } from '@opentelemetry/api';
import type { FastCounter, FastHistogram, FastInstruments } from '@switchyard/observability/fast-instruments';
import type { BatchObserver } from '../batching/dynamic-batcher.ts';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
const UNKNOWN = 'unknown';
/** Statuses every loaded version reports from the start: served, and the worker's own refusals. */
const INITIAL_STATUSES = ['200', '429', '500'];

export interface QueueDepthSource {
  model: string;
  versions(): Iterable<{ version: number; depth: number; provider: string }>;
}

export class WorkerMetrics {
  // Recorded on every request: fast instruments (plain increments, reported at scrape time).
  readonly #requests: FastCounter<'model' | 'version' | 'status'>;
  readonly #duration: FastHistogram<'model' | 'version' | 'status'>;
  readonly #queueWait: FastHistogram<'model' | 'version'>;
  readonly #batchSize: Histogram;
  readonly #inferences: Counter;
  readonly #executions: Counter;
  readonly #model: string;
  readonly #capacity = new Map<string, number>();

  constructor(meter: Meter, fast: FastInstruments, model: string) {
    this.#model = model;
    this.#requests = fast.createCounter('switchyard_worker_requests', { description: 'Inference requests by model, version and status' }, ['model', 'version', 'status']);
    this.#duration = fast.createHistogram('switchyard_worker_request_duration_seconds', {
      description: 'Inference request latency', unit: 's', boundaries: LATENCY_BUCKETS_S,
    }, ['model', 'version', 'status']);
    this.#batchSize = meter.createHistogram('switchyard_worker_batch_size', {
      description: 'Rows per session.run', advice: { explicitBucketBoundaries: BATCH_BUCKETS },
    });
    this.#queueWait = fast.createHistogram('switchyard_worker_queue_wait_seconds', {
      description: 'Time a request waited in the batch queue', unit: 's', boundaries: LATENCY_BUCKETS_S,
    }, ['model', 'version']);
    this.#inferences = meter.createCounter('switchyard_worker_inferences', { description: 'Rows inferred (sum of batch sizes)' });
    this.#executions = meter.createCounter('switchyard_worker_executions', { description: 'session.run calls' });
    const capacity = meter.createObservableGauge('switchyard_worker_queue_capacity', { description: 'Requests the batch queue holds before it refuses with 429' });
    capacity.addCallback((result) => {
      for (const [version, size] of this.#capacity) result.observe(size, { model: this.#model, version });
    });
  }

  /** Records one finished inference request for a version of this worker's model. */
  request(version: string, status: number, seconds: number): void {
    const attributes = { model: this.#model, version, status: String(status) };
    this.#requests.add(1, attributes);
    this.#duration.record(seconds, attributes);
  }

  /** Records a request not resolved to a loaded version (another model, an unknown version, or still loading). */
  unresolved(status: number, seconds: number): void {
    const attributes = { model: UNKNOWN, version: UNKNOWN, status: String(status) };
    this.#requests.add(1, attributes);
    this.#duration.record(seconds, attributes);
  }

  observerFor(version: number): BatchObserver {
    const attributes = { model: this.#model, version: String(version) };
    for (const status of INITIAL_STATUSES) this.#requests.add(0, { ...attributes, status });
    this.#inferences.add(0, attributes);
    this.#executions.add(0, attributes);
    return {
      configured: ({ maxQueueSize }) => this.#capacity.set(String(version), maxQueueSize),
      queueWait: (seconds) => this.#queueWait.record(seconds, attributes),
      batchExecuted: (rows) => {
        this.#batchSize.record(rows, attributes);
        this.#inferences.add(rows, attributes);
        this.#executions.add(1, attributes);
      },
    };
  }

  /** Registers the gauges read from live state at scrape time. */
  static observe(meter: Meter, source: () => QueueDepthSource | undefined): void {
    const depth = meter.createObservableGauge('switchyard_worker_queue_depth', { description: 'Requests waiting in the batch queue' });
    const provider = meter.createObservableGauge('switchyard_worker_execution_provider_info', {
      description: 'Execution provider serving each version (value 1)',
    });
    meter.addBatchObservableCallback((result) => {
      const current = source();
      if (!current) return;
      for (const v of current.versions()) {
        result.observe(depth, v.depth, { model: current.model, version: String(v.version) });
        result.observe(provider, 1, { model: current.model, version: String(v.version), provider: v.provider });
      }
    }, [depth, provider]);
  }
}
