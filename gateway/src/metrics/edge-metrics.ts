/**
 * Per-edge-worker metrics: requests by outcome (ok, timeout, crash,
 * exception, unavailable, circuit_open), latency of the worker's hop
 * (model calls included), restarts, and breaker state.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { EdgeObserver, EdgeOutcome } from '../plugins/edge-worker/index.ts';
import type { BreakerState } from '../upstream/circuit-breaker.ts';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export class EdgeMetrics implements EdgeObserver {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #restarts: Counter;
  readonly #breakers = new Map<string, BreakerState>();

  constructor(meter: Meter) {
    this.#requests = meter.createCounter('switchyard_edge_worker_requests', { description: 'Edge-worker requests by worker and outcome' });
    this.#duration = meter.createHistogram('switchyard_edge_worker_duration_seconds', {
      description: 'Time in the edge worker, its model calls included', unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.#restarts = meter.createCounter('switchyard_edge_worker_restarts', { description: 'Edge-worker process restarts' });
    const breaker = meter.createObservableGauge('switchyard_edge_worker_circuit_breaker', { description: 'Edge-worker breaker: 0 closed, 1 half open, 2 open' });
    breaker.addCallback((result) => {
      for (const [worker, state] of this.#breakers) result.observe(BREAKER_VALUE[state], { worker });
    });
  }

  /** Known workers start at zero so that a first failure shows in `increase()`. */
  register(worker: string): void {
    this.#restarts.add(0, { worker });
    for (const outcome of ['ok', 'timeout', 'crash', 'exception', 'unavailable', 'circuit_open'] as const) this.#requests.add(0, { worker, outcome });
    if (!this.#breakers.has(worker)) this.#breakers.set(worker, 'closed');
  }

  edgeRequest(worker: string, outcome: EdgeOutcome, seconds: number): void {
    this.#requests.add(1, { worker, outcome });
    this.#duration.record(seconds, { worker, outcome });
  }

  restarted(worker: string): void {
    this.#restarts.add(1, { worker });
  }

  breakerChanged(worker: string, state: BreakerState): void {
    this.#breakers.set(worker, state);
  }
}
