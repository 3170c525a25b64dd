/**
 * The gateway's Prometheus metrics: requests and latency per model, variant
 * and status; rate-limit decisions; upstream attempts and retries; circuit
 * breaker and health state; shadow outcomes.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { RateLimitObserver, RateLimitOutcome } from '../plugins/rate-limit/index.ts';
import type { ProxyObserver } from '../plugins/proxy/index.ts';
import type { ShadowObserver, ShadowOutcome } from '../plugins/shadow/index.ts';
import type { BreakerState } from '../upstream/circuit-breaker.ts';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export class GatewayMetrics implements RateLimitObserver, ProxyObserver, ShadowObserver {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #rateLimit: Counter;
  readonly #attempts: Counter;
  readonly #shadow: Counter;
  readonly #shadowDuration: Histogram;
  readonly #rolloutDecisions: Counter;
  readonly #flagEvaluations: Counter;
  readonly #flags = new Map<string, { version: number; weights: Record<string, number>; kill: boolean; step: number }>();
  #flagsConnected: () => boolean = () => true;
  #guards: () => Array<{ model: string; variant: string; requests: number; successRate: number; p99Ms: number }> = () => [];
  readonly #breakers = new Map<string, BreakerState>();
  readonly #health = new Map<string, boolean>();
  #storeHealthy = true;

  constructor(meter: Meter) {
    this.#requests = meter.createCounter('switchyard_gateway_requests', { description: 'Requests by model, variant and status' });
    this.#duration = meter.createHistogram('switchyard_gateway_request_duration_seconds', {
      description: 'Gateway request latency, upstream included', unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.#rateLimit = meter.createCounter('switchyard_gateway_rate_limit_decisions', { description: 'Rate-limit decisions by policy and outcome' });
    this.#attempts = meter.createCounter('switchyard_gateway_upstream_attempts', { description: 'Upstream attempts by outcome (ok, retry, timeout)' });
    this.#shadow = meter.createCounter('switchyard_gateway_shadow_requests', { description: 'Shadow copies by outcome (agree, disagree, error)' });
    this.#shadowDuration = meter.createHistogram('switchyard_gateway_shadow_duration_seconds', {
      description: 'Latency of shadow copies', unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.#rolloutDecisions = meter.createCounter('switchyard_gateway_rollout_decisions', { description: 'Automatic rollout decisions by model and action' });
    this.#flagEvaluations = meter.createCounter('switchyard_gateway_flag_evaluations', { description: 'Variant flag evaluations by model, variant and reason' });
    const flagVersion = meter.createObservableGauge('switchyard_gateway_flag_version', { description: 'Version of each model\'s flags known to this replica' });
    const weight = meter.createObservableGauge('switchyard_gateway_variant_weight', { description: 'Traffic share (percent) per variant from the flags' });
    const kill = meter.createObservableGauge('switchyard_gateway_kill_switch', { description: '1 while a model\'s kill switch is on' });
    const step = meter.createObservableGauge('switchyard_gateway_rollout_step', { description: 'Current step index of a model\'s rollout plan (-1 without one)' });
    const flagsConnected = meter.createObservableGauge('switchyard_gateway_flags_connected', { description: '0 while the flag store is unreachable (flags may be stale)' });
    const guard = meter.createObservableGauge('switchyard_gateway_rollout_guard', {
      description: 'Values the rollout guards judge, per variant of a running plan, since its step began (measure: requests, success_rate, p99_seconds)',
    });
    meter.addBatchObservableCallback((result) => {
      for (const [model, f] of this.#flags) {
        result.observe(flagVersion, f.version, { model });
        result.observe(kill, f.kill ? 1 : 0, { model });
        result.observe(step, f.step, { model });
        for (const [variant, w] of Object.entries(f.weights)) result.observe(weight, w, { model, variant });
      }
      result.observe(flagsConnected, this.#flagsConnected() ? 1 : 0);
      for (const g of this.#guards()) {
        result.observe(guard, g.requests, { model: g.model, variant: g.variant, measure: 'requests' });
        result.observe(guard, g.successRate, { model: g.model, variant: g.variant, measure: 'success_rate' });
        if (!Number.isNaN(g.p99Ms)) result.observe(guard, g.p99Ms / 1000, { model: g.model, variant: g.variant, measure: 'p99_seconds' });
      }
    }, [flagVersion, weight, kill, step, flagsConnected, guard]);
    const breaker = meter.createObservableGauge('switchyard_gateway_circuit_breaker_state', { description: 'Per upstream: 0 closed, 1 half-open, 2 open' });
    const healthy = meter.createObservableGauge('switchyard_gateway_upstream_healthy', { description: 'Per upstream: 1 when its last health check passed' });
    const store = meter.createObservableGauge('switchyard_gateway_rate_limit_store_healthy', { description: '1 while the shared rate-limit store answers' });
    meter.addBatchObservableCallback((result) => {
      for (const [upstream, state] of this.#breakers) result.observe(breaker, BREAKER_VALUE[state], { upstream });
      for (const [upstream, ok] of this.#health) result.observe(healthy, ok ? 1 : 0, { upstream });
      result.observe(store, this.#storeHealthy ? 1 : 0);
    }, [breaker, healthy, store]);
  }

  request(model: string, variant: string, status: number, seconds: number): void {
    const attributes = { model, variant, status: String(status) };
    this.#requests.add(1, attributes);
    this.#duration.record(seconds, attributes);
  }

  decision(policy: string, outcome: RateLimitOutcome): void {
    this.#rateLimit.add(1, { policy, outcome });
  }

  storeHealth(healthy: boolean): void {
    this.#storeHealthy = healthy;
  }

  attempt(model: string, variant: string, outcome: 'ok' | 'retry' | 'timeout'): void {
    this.#attempts.add(1, { model, variant, outcome });
  }

  shadowed(model: string, variant: string, outcome: ShadowOutcome, seconds: number): void {
    this.#shadow.add(1, { model, variant, outcome });
    this.#shadowDuration.record(seconds, { model, variant });
  }

  flagChanged(model: string, version: number, state: { weights: Record<string, number>; kill: boolean; plan?: { step: number; status: string } | undefined }): void {
    const step = state.plan && (state.plan.status === 'running' || state.plan.status === 'paused') ? state.plan.step : -1;
    this.#flags.set(model, { version, weights: state.weights, kill: state.kill, step });
  }

  watchFlagStore(connected: () => boolean): void {
    this.#flagsConnected = connected;
  }

  /** Reads the guard inputs of running plans at scrape time. */
  watchRolloutGuards(source: () => Array<{ model: string; variant: string; requests: number; successRate: number; p99Ms: number }>): void {
    this.#guards = source;
  }

  rolloutDecision(model: string, action: string): void {
    this.#rolloutDecisions.add(1, { model, action });
  }

  flagEvaluated(model: string, variant: string, reason: string): void {
    this.#flagEvaluations.add(1, { model, variant, reason });
  }

  breakerChanged(upstream: string, state: BreakerState): void {
    this.#breakers.set(upstream, state);
  }

  healthChanged(upstream: string, healthy: boolean): void {
    this.#health.set(upstream, healthy);
  }
}
