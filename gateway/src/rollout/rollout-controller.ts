/**
 * Drives progressive delivery on the replica holding the rollout lease:
 * every tick, for each running plan, it compares the candidate with the
 * stable variant since the step began, on upstream outcomes only (see
 * `VariantStats`), from at least `min_subjects` distinct callers. A breached guard rolls back at once;
 * a healthy step that has lasted its interval (with enough requests)
 * advances, and the last step promotes. Writes carry the version they were
 * decided on, so a decision is never applied twice.
 */
import { trace } from '@opentelemetry/api';
import type { Logger } from '@switchyard/observability/logger';
import { VersionConflictError, type FlagStore } from '../flags/flag-store.ts';
import type { RolloutState } from '../flags/rollout-state.ts';
import type { Lease } from './lease.ts';
import { advanceStep, promote, rollback } from './rollout-operations.ts';
import type { VariantStats } from './variant-stats.ts';

export interface RolloutControllerOptions {
  store: FlagStore;
  stats: VariantStats;
  lease: Lease;
  logger: Logger;
  /** How often plans are checked. Default 1000 ms. */
  tickMs?: number;
  now?: () => number;
  /** Reported after every decision (metrics). */
  onDecision?: (model: string, decision: 'advance' | 'promote' | 'rollback', state: RolloutState) => void;
}

export type Verdict = { action: 'hold' } | { action: 'rollback'; reason: string } | { action: 'advance' | 'promote'; reason: string };

/** The guard decision for one running plan. */
export function judge(model: string, state: RolloutState, stats: VariantStats, now: number): Verdict {
  const plan = state.plan;
  const candidate = state.candidate;
  if (!plan || plan.status !== 'running' || !candidate) return { action: 'hold' };
  const { guards } = plan;
  const cand = stats.summary(model, candidate, plan.step_started_at);
  const stable = stats.summary(model, state.stable, plan.step_started_at);
  if (cand.requests >= guards.min_requests) {
    if (cand.successRate < guards.min_success_rate && cand.failingSubjects >= guards.min_subjects) {
      return { action: 'rollback', reason: `candidate success rate ${cand.successRate.toFixed(3)} < ${guards.min_success_rate} over ${cand.requests} requests` };
    }
    if (cand.subjects >= guards.min_subjects && stable.requests >= guards.min_requests && cand.p99Ms > stable.p99Ms * guards.max_p99_ratio + guards.latency_slack_ms) {
      return { action: 'rollback', reason: `candidate p99 ${cand.p99Ms.toFixed(1)} ms > stable p99 ${stable.p99Ms.toFixed(1)} ms × ${guards.max_p99_ratio} + ${guards.latency_slack_ms} ms` };
    }
  }
  const elapsed = now - plan.step_started_at;
  if (elapsed < plan.interval_seconds * 1000 || cand.requests < guards.min_requests || cand.subjects < guards.min_subjects) return { action: 'hold' };
  const health = `success ${cand.successRate.toFixed(3)} over ${cand.requests} requests, p99 ${cand.p99Ms.toFixed(1)} ms`;
  return plan.step === plan.steps.length - 1 ? { action: 'promote', reason: `guards held at 100% (${health})` } : { action: 'advance', reason: `guards held at ${plan.steps[plan.step]}% (${health})` };
}

export class RolloutController {
  readonly #options: Required<Omit<RolloutControllerOptions, 'onDecision'>> & Pick<RolloutControllerOptions, 'onDecision'>;
  #timer: NodeJS.Timeout | undefined;
  #leading = false;
  #ticking: Promise<void> | undefined;

  constructor(options: RolloutControllerOptions) {
    this.#options = { tickMs: 1000, now: Date.now, ...options };
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#timer = setInterval(() => void this.tick(), this.#options.tickMs);
    this.#timer.unref();
  }

  /** One round: renew the lease, then judge every running plan. */
  tick(): Promise<void> {
    this.#ticking ??= this.#round().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #round(): Promise<void> {
    const { store, stats, lease, logger, now, onDecision } = this.#options;
    const leading = await lease.acquire();
    if (leading !== this.#leading) logger.info({ leading }, leading ? 'took the rollout lease' : 'lost the rollout lease');
    this.#leading = leading;
    if (!leading) return;
    for (const model of store.models()) {
      const current = store.get(model);
      if (!current) continue;
      const time = now();
      const verdict = judge(model, current.state, stats, time);
      if (verdict.action === 'hold') continue;
      const next =
        verdict.action === 'rollback' ? rollback(current.state, verdict.reason)
        : verdict.action === 'promote' ? promote(current.state, verdict.reason)
        : advanceStep(current.state, time);
      try {
        await store.set(model, next, current.version, 'rollout-controller', `${verdict.action}: ${verdict.reason}`);
      } catch (error) {
        if (error instanceof VersionConflictError) continue; // changed meanwhile; judge again next tick
        logger.warn({ model, error: (error as Error).message }, 'rollout decision not applied');
        continue;
      }
      const log = verdict.action === 'rollback' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log({ model, action: verdict.action, reason: verdict.reason, weights: next.weights }, 'rollout decision');
      trace.getTracer('switchyard-gateway').startSpan('rollout decision', { attributes: { 'switchyard.model': model, 'switchyard.rollout.action': verdict.action, 'switchyard.rollout.reason': verdict.reason } }).end();
      onDecision?.(model, verdict.action, next);
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#ticking;
    if (this.#leading) await this.#options.lease.release();
  }
}
