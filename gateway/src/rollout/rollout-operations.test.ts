import { describe, expect, it } from 'vitest';
import { RolloutStateSchema } from '../flags/rollout-state.ts';
import { pausePlan, promote, rollback, RolloutConflictError, startPlan, withCandidateShare } from './rollout-operations.ts';

const base = RolloutStateSchema.parse({ stable: 'v1', candidate: 'v2', weights: { v1: 100, v2: 0 } });
const plan = { steps: [10, 50, 100], interval_seconds: 10 };

describe('rollback', () => {
  it('sends all traffic to the stable variant and marks a running or paused plan rolled back', () => {
    const running = startPlan(base, 'v2', plan, 0);
    expect(rollback(running, 'guard failed')).toMatchObject({ weights: { v1: 100, v2: 0 }, plan: { status: 'rolled_back', reason: 'guard failed' } });
    expect(rollback(pausePlan(running), 'by hand')).toMatchObject({ weights: { v1: 100, v2: 0 }, plan: { status: 'rolled_back', reason: 'by hand' } });
  });

  it('takes back a share set by hand, without a plan', () => {
    const shared = withCandidateShare(base, 'v2', 30);
    expect(shared.plan).toBeUndefined();
    expect(rollback(shared, 'by hand').weights).toEqual({ v1: 100, v2: 0 });
  });

  it('refuses after a promotion, naming the promoted variant, with a conflict error', () => {
    const promoted = promote(startPlan(base, 'v2', plan, 0), 'guards held at 100%');
    const attempt = () => rollback(promoted, 'by hand');
    expect(attempt).toThrowError(RolloutConflictError);
    expect(attempt).toThrowError("nothing to roll back: the rollout was already promoted (guards held at 100%); 'v2' is now the stable variant with all traffic");
  });

  it('refuses a second rollback, and one where the stable variant already has all traffic', () => {
    const rolledBack = rollback(startPlan(base, 'v2', plan, 0), 'guard failed');
    expect(() => rollback(rolledBack, 'again')).toThrowError("nothing to roll back: the rollout was already rolled back (guard failed); 'v1' has all traffic");
    expect(() => rollback(base, 'by hand')).toThrowError("nothing to roll back: no rollout is running or paused and the stable variant 'v1' already has all traffic");
    expect(() => rollback(promote(withCandidateShare(base, 'v2', 30)), 'by hand')).toThrowError(/^nothing to roll back: no rollout is running or paused and the stable variant 'v2'/);
  });
});
