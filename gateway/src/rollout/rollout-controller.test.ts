import { describe, expect, it } from 'vitest';
import { captureLogs } from '@switchyard/model-worker/testing/worker-harness';
import { MemoryFlagStore } from '../flags/memory-flag-store.ts';
import { RolloutStateSchema } from '../flags/rollout-state.ts';
import { localLease } from './lease.ts';
import { judge, RolloutController } from './rollout-controller.ts';
import { promote, rollback, startPlan, withCandidateShare } from './rollout-operations.ts';
import { VariantStats } from './variant-stats.ts';

const base = RolloutStateSchema.parse({ stable: 'v1', candidate: 'v2', weights: { v1: 100, v2: 0 } });
const plan = { steps: [10, 50, 100], interval_seconds: 10, guards: { min_success_rate: 0.99, min_requests: 10, max_p99_ratio: 2, latency_slack_ms: 5 } };

/** `n` requests spread over `subjects` callers; the first `errors` fail. */
function traffic(stats: VariantStats, variant: string, n: number, { errors = 0, ms = 2, subjects = 5 } = {}): void {
  for (let i = 0; i < n; i++) stats.record('m', variant, i < errors ? 500 : 200, ms / 1000, `api_key:k${i % subjects}`);
}

describe('rollout guards', () => {
  it('holds a step until its interval has passed with enough candidate requests', () => {
    let now = 1_000_000;
    const stats = new VariantStats(() => now);
    const state = startPlan(base, 'v2', plan, now);
    traffic(stats, 'v2', 5);
    expect(judge('m', state, stats, now + 11_000)).toEqual({ action: 'hold' });
    traffic(stats, 'v2', 10);
    expect(judge('m', state, stats, now + 5_000)).toEqual({ action: 'hold' });
    now += 11_000;
    expect(judge('m', state, stats, now)).toMatchObject({ action: 'advance' });
  });

  it('rolls back at once when the candidate\'s success rate falls below the floor', () => {
    const now = 1_000_000;
    const stats = new VariantStats(() => now);
    const state = startPlan(base, 'v2', plan, now);
    traffic(stats, 'v2', 20, { errors: 4 });
    expect(judge('m', state, stats, now + 1)).toEqual({ action: 'rollback', reason: 'candidate success rate 0.800 < 0.99 over 20 requests' });
  });

  it('rolls back when the candidate\'s p99 exceeds stable p99 × ratio + slack', () => {
    const now = 1_000_000;
    const stats = new VariantStats(() => now);
    const state = startPlan(base, 'v2', plan, now);
    traffic(stats, 'v1', 50, { ms: 2 });
    traffic(stats, 'v2', 50, { ms: 20 });
    expect(judge('m', state, stats, now + 1)).toMatchObject({ action: 'rollback', reason: expect.stringMatching(/^candidate p99 20\.0 ms > stable p99 2\.0 ms × 2 \+ 5 ms$/) as unknown });
  });

  it('needs failures from min_subjects distinct callers before one can roll back', () => {
    const now = 1_000_000;
    const stats = new VariantStats(() => now);
    const state = startPlan(base, 'v2', { ...plan, guards: { ...plan.guards, min_subjects: 3 } }, now);
    traffic(stats, 'v2', 30);
    // One caller's failures, however many, do not move the guard.
    for (let i = 0; i < 10; i++) stats.record('m', 'v2', 500, 0.002, 'jwt:issuer:mallory');
    expect(judge('m', state, stats, now + 1)).toEqual({ action: 'hold' });
    stats.record('m', 'v2', 500, 0.002, 'api_key:k1');
    stats.record('m', 'v2', 502, 0.002, 'api_key:k2');
    expect(judge('m', state, stats, now + 1)).toEqual({ action: 'rollback', reason: 'candidate success rate 0.714 < 0.99 over 42 requests' });
  });

  it('does not advance on one caller\'s traffic when min_subjects asks for more', () => {
    const now = 1_000_000;
    const stats = new VariantStats(() => now);
    const state = startPlan(base, 'v2', { ...plan, guards: { ...plan.guards, min_subjects: 2 } }, now);
    traffic(stats, 'v2', 50, { subjects: 1 });
    expect(judge('m', state, stats, now + 11_000)).toEqual({ action: 'hold' });
    traffic(stats, 'v2', 2, { subjects: 2 });
    expect(judge('m', state, stats, now + 11_000)).toMatchObject({ action: 'advance' });
  });

  it('promotes from the last step', () => {
    let now = 1_000_000;
    const stats = new VariantStats(() => now);
    const state = { ...startPlan(base, 'v2', plan, now), plan: { ...startPlan(base, 'v2', plan, now).plan!, step: 2 } };
    traffic(stats, 'v2', 20);
    now += 10_001;
    expect(judge('m', state, stats, now)).toMatchObject({ action: 'promote' });
  });
});

describe('rollout operations', () => {
  it('moves the share between stable and candidate, promotes and rolls back', () => {
    expect(withCandidateShare(base, 'v2', 30).weights).toEqual({ v1: 70, v2: 30 });
    const promoted = promote(withCandidateShare(base, 'v2', 30));
    expect(promoted).toMatchObject({ stable: 'v2', weights: { v1: 0, v2: 100 } });
    expect(promoted.candidate).toBeUndefined();
    expect(rollback(startPlan(base, 'v2', plan, 0), 'why').plan).toMatchObject({ status: 'rolled_back', reason: 'why' });
    expect(() => withCandidateShare(base, 'v1', 10)).toThrowError(/stable variant/);
  });
});

describe('rollout controller', () => {
  it('advances each step exactly once, then promotes, recording every decision', async () => {
    let now = 1_000_000;
    const store = new MemoryFlagStore();
    const stats = new VariantStats(() => now);
    await store.set('m', startPlan(base, 'v2', plan, now), 0, 'operator', 'start');
    const controller = new RolloutController({ store, stats, lease: localLease('me'), logger: captureLogs().logger, now: () => now });
    for (let step = 0; step < 3; step++) {
      traffic(stats, 'v2', 20);
      await controller.tick();
      now += 10_001;
      traffic(stats, 'v2', 20);
      await controller.tick();
      await controller.tick(); // a repeated tick must not apply the same step again
    }
    const final = store.get('m');
    expect(final?.state).toMatchObject({ stable: 'v2', weights: { v1: 0, v2: 100 }, plan: { status: 'promoted' } });
    const reasons = (await store.history('m')).map((h) => h.reason.split(':')[0]).reverse();
    expect(reasons).toEqual(['start', 'advance', 'advance', 'promote']);
  });
});
