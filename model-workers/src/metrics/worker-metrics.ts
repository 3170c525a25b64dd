/**
 * The worker's Prometheus metrics: requests and latency by model, version
 * and status; batch sizes, queue wait and depth; the execution provider in
 * use. Instruments are named as Prometheus exposes them, so dashboards and
 * code use one name. Triton-style counters let average batch size be derived as
 * inferences ÷ executions.
 */
import type { Attributes, Histogram, Counter, Meter } from '@opentelemetry/api';
import type { BatchObserver } from '../batching/dynamic-batcher.ts';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export interface QueueDepthSource {
  model: string;
  versions(): Iterable<{ version: number; depth: number; provider: string }>;
}

export class WorkerMetrics {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #batchSize: Histogram;
  readonly #queueWait: Histogram;
  readonly #inferences: Counter;
  readonly #executions: Counter;
  readonly #model: string;

  constructor(meter: Meter, model: string) {
    this.#model = model;
    this.#requests = meter.createCounter('switchyard_worker_requests', { description: 'Inference requests by model, version and status' });
    this.#duration = meter.createHistogram('switchyard_worker_request_duration_seconds', {
      description: 'Inference request latency', unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.#batchSize = meter.createHistogram('switchyard_worker_batch_size', {
      description: 'Rows per session.run', advice: { explicitBucketBoundaries: BATCH_BUCKETS },
    });
    this.#queueWait = meter.createHistogram('switchyard_worker_queue_wait_seconds', {
      description: 'Time a request waited in the batch queue', unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.#inferences = meter.createCounter('switchyard_worker_inferences', { description: 'Rows inferred (sum of batch sizes)' });
    this.#executions = meter.createCounter('switchyard_worker_executions', { description: 'session.run calls' });
  }

  /** Records one finished inference request. */
  request(version: string, status: number, seconds: number): void {
    const attributes: Attributes = { model: this.#model, version, status: String(status) };
    this.#requests.add(1, attributes);
    this.#duration.record(seconds, attributes);
  }

  observerFor(version: number): BatchObserver {
    const attributes: Attributes = { model: this.#model, version: String(version) };
    return {
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
    const provider = meter.createObservableGauge('switchyard_worker_execution_provider', {
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
