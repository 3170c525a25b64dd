/**
 * The gateway's Prometheus metrics: requests and latency per model, variant
 * and status; what each variant answered (its own outcomes and latency, for
 * A/B panels and alerts); rate-limit decisions; upstream attempts, health
 * and breakers; shadow outcomes; flags and rollouts.
 *
 * Label values come only from the fleet config (see `MetricLabels`), and the
 * counters for every configured label set start at zero when a config is
 * applied, so `increase()` and ratios see the first event.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { FastCounter, FastHistogram, FastInstruments } from '@switchyard/observability/fast-instruments';
import type { RateLimitObserver, RateLimitOutcome } from '../plugins/rate-limit/index.ts';
import type { ProxyObserver } from '../plugins/proxy/index.ts';
import type { ShadowObserver, ShadowOutcome } from '../plugins/shadow/index.ts';
import type { FleetTopology } from '../routing/fleet-topology.ts';
import type { BreakerState } from '../upstream/circuit-breaker.ts';
import { MetricLabels, NO_VARIANT } from './metric-labels.ts';

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
const RATE_LIMIT_OUTCOMES: readonly RateLimitOutcome[] = ['allowed', 'limited', 'store_failed'];
const ATTEMPT_OUTCOMES = ['ok', 'retry', 'timeout'] as const;
const SHADOW_OUTCOMES: readonly ShadowOutcome[] = ['agree', 'disagree', 'error'];
const ROLLOUT_ACTIONS = ['advance', 'promote', 'rollback'] as const;
/** What a variant's answer to an inference request was. */
export type VariantOutcome = 'success' | 'client_error' | 'server_error';
const VARIANT_OUTCOMES: readonly VariantOutcome[] = ['success', 'client_error', 'server_error'];

export interface GuardValues { model: string; variant: string; requests: number; successRate: number; p99Ms: number }
interface FlagView { version: number; weights: Record<string, number>; kill: boolean; step: number; stepPercent: number; stable?: string; candidate?: string }

export function variantOutcome(status: number): VariantOutcome {
  if (status >= 500) return 'server_error';
  return status >= 400 ? 'client_error' : 'success';
}

export class GatewayMetrics implements RateLimitObserver, ProxyObserver, ShadowObserver {
  // Recorded on every request: fast instruments (plain increments, reported at scrape time).
  readonly #requests: FastCounter<'model' | 'variant' | 'status'>;
  readonly #duration: FastHistogram<'model' | 'variant' | 'status'>;
  readonly #variantRequests: FastCounter<'model' | 'variant' | 'outcome'>;
  readonly #variantDuration: FastHistogram<'model' | 'variant'>;
  readonly #rateLimit: FastCounter<'policy' | 'outcome'>;
  readonly #attempts: FastCounter<'model' | 'variant' | 'outcome'>;
  readonly #flagEvaluations: FastCounter<'model' | 'variant' | 'reason'>;
  readonly #shadow: Counter;
  readonly #shadowDuration: Histogram;
  readonly #rolloutDecisions: Counter;
  readonly #flags = new Map<string, FlagView>();
  #labels = new MetricLabels();
  #topology: FleetTopology = new Map();
  #flagsConnected: () => boolean = () => true;
  #guards: () => GuardValues[] = () => [];
  readonly #breakers = new Map<string, BreakerState>();
  readonly #health = new Map<string, boolean>();
  #storeHealthy = true;

  constructor(meter: Meter, fast: FastInstruments) {
    this.#requests = fast.createCounter('switchyard_gateway_requests', { description: 'Requests by model, variant (none when not routed) and status' }, ['model', 'variant', 'status']);
    this.#duration = fast.createHistogram('switchyard_gateway_request_duration_seconds', {
      description: 'Gateway request latency, upstream included', unit: 's', boundaries: LATENCY_BUCKETS_S,
    }, ['model', 'variant', 'status']);
    this.#variantRequests = fast.createCounter('switchyard_gateway_variant_requests', {
      description: 'Inference requests routed to a variant, by what it answered (success, client_error, server_error)',
    }, ['model', 'variant', 'outcome']);
    this.#variantDuration = fast.createHistogram('switchyard_gateway_variant_request_duration_seconds', {
      description: 'Latency of inference requests a variant answered (successes and server errors; client errors excluded)', unit: 's',
      boundaries: LATENCY_BUCKETS_S,
    }, ['model', 'variant']);
    this.#rateLimit = fast.createCounter('switchyard_gateway_rate_limit_decisions', { description: 'Rate-limit decisions by policy and outcome' }, ['policy', 'outcome']);
    this.#attempts = fast.createCounter('switchyard_gateway_upstream_attempts', { description: 'Upstream attempts by outcome (ok, retry, timeout)' }, ['model', 'variant', 'outcome']);
    this.#shadow = meter.createCounter('switchyard_gateway_shadow_requests', { description: 'Shadow copies by outcome (agree, disagree, error)' });
    this.#shadowDuration = meter.createHistogram('switchyard_gateway_shadow_duration_seconds', {
      description: 'Latency of shadow copies', unit: 's', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.#rolloutDecisions = meter.createCounter('switchyard_gateway_rollout_decisions', { description: 'Automatic rollout decisions by model and action' });
    this.#flagEvaluations = fast.createCounter('switchyard_gateway_flag_evaluations', { description: 'Variant flag evaluations by model, variant and reason' }, ['model', 'variant', 'reason']);
    this.#observeFlags(meter);
    this.#observeUpstreams(meter);
  }

  #observeFlags(meter: Meter): void {
    const flagVersion = meter.createObservableGauge('switchyard_gateway_flag_version', { description: 'Version of each model\'s flags known to this replica' });
    const weight = meter.createObservableGauge('switchyard_gateway_variant_weight_percent', { description: 'Traffic share per variant set by the flags, in percent' });
    const info = meter.createObservableGauge('switchyard_gateway_variant_info', { description: 'Each configured variant and its role in the flags (stable, candidate, other); value 1' });
    const kill = meter.createObservableGauge('switchyard_gateway_kill_switch', { description: '1 while a model\'s kill switch is on' });
    const step = meter.createObservableGauge('switchyard_gateway_rollout_step', { description: 'Current step index of a model\'s rollout plan (-1 without one)' });
    const stepPercent = meter.createObservableGauge('switchyard_gateway_rollout_step_percent', { description: 'Candidate share the current rollout step sets, in percent (0 without a running plan)' });
    const flagsConnected = meter.createObservableGauge('switchyard_gateway_flags_connected', { description: '0 while the flag store is unreachable (flags may be stale)' });
    const guardRequests = meter.createObservableGauge('switchyard_gateway_rollout_guard_requests', { description: 'Requests the rollout guards have judged per variant since the current step began' });
    const guardSuccess = meter.createObservableGauge('switchyard_gateway_rollout_guard_success_ratio', { description: 'Success ratio (0..1) the rollout guards judge per variant since the current step began' });
    const guardP99 = meter.createObservableGauge('switchyard_gateway_rollout_guard_p99_seconds', { description: 'p99 latency the rollout guards judge per variant since the current step began', unit: 's' });
    meter.addBatchObservableCallback((result) => {
      for (const [model, names] of this.#labels.models) {
        const f = this.#flags.get(model);
        const stable = f?.stable ?? names.stable;
        for (const variant of names.variants) {
          const role = variant === stable ? 'stable' : variant === f?.candidate ? 'candidate' : 'other';
          result.observe(info, 1, { model, variant, role });
        }
        if (!f) continue;
        result.observe(flagVersion, f.version, { model });
        result.observe(kill, f.kill ? 1 : 0, { model });
        result.observe(step, f.step, { model });
        result.observe(stepPercent, f.stepPercent, { model });
        for (const variant of names.variants) result.observe(weight, f.weights[variant] ?? 0, { model, variant });
      }
      result.observe(flagsConnected, this.#flagsConnected() ? 1 : 0);
      for (const g of this.#guards()) {
        const model = this.#labels.model(g.model);
        const attributes = { model, variant: this.#labels.variant(model, g.variant) };
        result.observe(guardRequests, g.requests, attributes);
        if (!Number.isNaN(g.successRate)) result.observe(guardSuccess, g.successRate, attributes);
        if (!Number.isNaN(g.p99Ms)) result.observe(guardP99, g.p99Ms / 1000, attributes);
      }
    }, [flagVersion, weight, info, kill, step, stepPercent, flagsConnected, guardRequests, guardSuccess, guardP99]);
  }

  #observeUpstreams(meter: Meter): void {
    const breaker = meter.createObservableGauge('switchyard_gateway_circuit_breaker_state', { description: 'Per upstream: 0 closed, 1 half-open, 2 open' });
    const healthy = meter.createObservableGauge('switchyard_gateway_upstream_healthy', { description: 'Per upstream: 1 when its last health check passed' });
    const available = meter.createObservableGauge('switchyard_gateway_upstreams_available', {
      description: 'Replicas per model and variant the gateway would send traffic to now (not known unhealthy, breaker not open)',
    });
    const store = meter.createObservableGauge('switchyard_gateway_rate_limit_store_healthy', { description: '1 while the shared rate-limit store answers' });
    meter.addBatchObservableCallback((result) => {
      // Only upstreams of the current config: one a reload removed is no longer reported.
      for (const [url, state] of this.#breakers) {
        const labels = this.#labels.upstream(url);
        if (labels) result.observe(breaker, BREAKER_VALUE[state], labels);
      }
      for (const [url, ok] of this.#health) {
        const labels = this.#labels.upstream(url);
        if (labels) result.observe(healthy, ok ? 1 : 0, labels);
      }
      for (const m of this.#topology.values()) {
        for (const v of m.variants.values()) result.observe(available, v.upstreams.filter((u) => u.healthy !== false && u.breaker.state !== 'open').length, { model: m.name, variant: v.name });
      }
      result.observe(store, this.#storeHealthy ? 1 : 0);
    }, [breaker, healthy, available, store]);
  }

  /**
   * Applies a fleet config: from now on only its names are label values, and
   * every counter for its label sets exists (at zero) so the first event shows.
   */
  configure(topology: FleetTopology, policies: readonly string[]): void {
    this.#topology = topology;
    this.#labels = new MetricLabels(topology, policies);
    for (const [model, names] of this.#labels.models) {
      for (const variant of names.variants) {
        this.#requests.add(0, { model, variant, status: '200' });
        for (const outcome of VARIANT_OUTCOMES) this.#variantRequests.add(0, { model, variant, outcome });
        for (const outcome of ATTEMPT_OUTCOMES) this.#attempts.add(0, { model, variant, outcome });
      }
      if (names.shadow) for (const outcome of SHADOW_OUTCOMES) this.#shadow.add(0, { model, variant: names.shadow, outcome });
      for (const action of ROLLOUT_ACTIONS) this.#rolloutDecisions.add(0, { model, action });
      for (const url of names.upstreams.keys()) if (!this.#breakers.has(url)) this.#breakers.set(url, 'closed');
    }
    for (const policy of this.#labels.policies) for (const outcome of RATE_LIMIT_OUTCOMES) this.#rateLimit.add(0, { policy, outcome });
  }

  /** Every request the gateway answered, whatever its route. */
  request(model: string, variant: string, status: number, seconds: number): void {
    const m = this.#labels.model(model);
    const attributes = { model: m, variant: variant === NO_VARIANT ? NO_VARIANT : this.#labels.variant(m, variant), status: String(status) };
    this.#requests.add(1, attributes);
    this.#duration.record(seconds, attributes);
  }

  /** An inference request a variant was chosen for, and what came of it. Client errors are counted but not timed. */
  variantAnswered(model: string, variant: string, status: number, seconds: number): void {
    const m = this.#labels.model(model);
    const v = this.#labels.variant(m, variant);
    const outcome = variantOutcome(status);
    this.#variantRequests.add(1, { model: m, variant: v, outcome });
    if (outcome !== 'client_error') this.#variantDuration.record(seconds, { model: m, variant: v });
  }

  decision(policy: string, outcome: RateLimitOutcome): void {
    this.#rateLimit.add(1, { policy: this.#labels.policy(policy), outcome });
  }

  storeHealth(healthy: boolean): void {
    this.#storeHealthy = healthy;
  }

  attempt(model: string, variant: string, outcome: 'ok' | 'retry' | 'timeout'): void {
    const m = this.#labels.model(model);
    this.#attempts.add(1, { model: m, variant: this.#labels.variant(m, variant), outcome });
  }

  shadowed(model: string, variant: string, outcome: ShadowOutcome, seconds: number): void {
    const m = this.#labels.model(model);
    const v = this.#labels.variant(m, variant);
    this.#shadow.add(1, { model: m, variant: v, outcome });
    this.#shadowDuration.record(seconds, { model: m, variant: v });
  }

  flagChanged(
    model: string,
    version: number,
    state: { weights: Record<string, number>; kill: boolean; stable?: string; candidate?: string | undefined; plan?: { step: number; steps?: readonly number[]; status: string } | undefined },
  ): void {
    const active = state.plan && (state.plan.status === 'running' || state.plan.status === 'paused');
    const step = active && state.plan ? state.plan.step : -1;
    const stepPercent = active ? (state.plan?.steps?.[step] ?? 0) : 0;
    this.#flags.set(model, {
      version, weights: state.weights, kill: state.kill, step, stepPercent,
      ...(state.stable ? { stable: state.stable } : {}), ...(state.candidate ? { candidate: state.candidate } : {}),
    });
  }

  watchFlagStore(connected: () => boolean): void {
    this.#flagsConnected = connected;
  }

  /** Reads the guard inputs of running plans at scrape time. */
  watchRolloutGuards(source: () => GuardValues[]): void {
    this.#guards = source;
  }

  rolloutDecision(model: string, action: string): void {
    this.#rolloutDecisions.add(1, { model: this.#labels.model(model), action });
  }

  flagEvaluated(model: string, variant: string, reason: string): void {
    const m = this.#labels.model(model);
    this.#flagEvaluations.add(1, { model: m, variant: this.#labels.variant(m, variant), reason });
  }

  breakerChanged(upstream: string, state: BreakerState): void {
    this.#breakers.set(upstream, state);
  }

  healthChanged(upstream: string, healthy: boolean): void {
    this.#health.set(upstream, healthy);
  }
}
