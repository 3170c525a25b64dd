/**
 * The changes a rollout goes through, as pure functions of a rollout state:
 * set a candidate's share, start / pause / resume a plan, advance a step,
 * promote, roll back, kill switch. The admin API and the controller both
 * use them, so a change means the same whoever makes it.
 */
import { RolloutPlanSchema, RolloutStateSchema, type RolloutPlan, type RolloutPlanInput, type RolloutState } from '../flags/rollout-state.ts';

export class RolloutError extends Error {
  override name = 'RolloutError';
}

/** The change is valid but does not apply to the model's current state (the admin API answers 409). */
export class RolloutConflictError extends RolloutError {
  override name = 'RolloutConflictError';
}

/** `candidate` gets `percent`, the stable variant the rest, every other variant 0. */
export function withCandidateShare(state: RolloutState, candidate: string, percent: number): RolloutState {
  if (!Object.hasOwn(state.weights, candidate)) throw new RolloutError(`'${candidate}' is not a variant (${Object.keys(state.weights).join(', ')})`);
  if (candidate === state.stable) throw new RolloutError(`'${candidate}' is the stable variant`);
  if (!(percent >= 0 && percent <= 100)) throw new RolloutError('percent must be between 0 and 100');
  const weights = Object.fromEntries(Object.keys(state.weights).map((v) => [v, v === candidate ? percent : v === state.stable ? 100 - percent : 0]));
  return RolloutStateSchema.parse({ ...state, candidate, weights });
}

export function startPlan(state: RolloutState, candidate: string, plan: RolloutPlanInput, now: number): RolloutState {
  const parsed = RolloutPlanSchema.parse({ ...plan, status: 'running', step: 0, step_started_at: now, reason: 'started' });
  return RolloutStateSchema.parse({ ...withCandidateShare(state, candidate, parsed.steps[0] ?? 0), plan: parsed });
}

function requirePlan(state: RolloutState): RolloutPlan {
  if (!state.plan || !state.candidate) throw new RolloutError('no rollout plan is active for this model');
  return state.plan;
}

export function pausePlan(state: RolloutState): RolloutState {
  const plan = requirePlan(state);
  if (plan.status !== 'running') throw new RolloutError(`the plan is ${plan.status}, not running`);
  return { ...state, plan: { ...plan, status: 'paused', reason: 'paused' } };
}

export function resumePlan(state: RolloutState, now: number): RolloutState {
  const plan = requirePlan(state);
  if (plan.status !== 'paused') throw new RolloutError(`the plan is ${plan.status}, not paused`);
  return { ...state, plan: { ...plan, status: 'running', step_started_at: now, reason: 'resumed' } };
}

export function advanceStep(state: RolloutState, now: number): RolloutState {
  const plan = requirePlan(state);
  const next = plan.step + 1;
  const percent = plan.steps[next];
  if (percent === undefined) throw new RolloutError('already at the last step');
  return { ...withCandidateShare(state, state.candidate as string, percent), plan: { ...plan, step: next, step_started_at: now, reason: `advanced to ${percent}%` } };
}

/** The candidate becomes the stable variant with all traffic. */
export function promote(state: RolloutState, reason = 'promoted'): RolloutState {
  const candidate = state.candidate;
  if (!candidate) throw new RolloutError('there is no candidate to promote');
  const weights = Object.fromEntries(Object.keys(state.weights).map((v) => [v, v === candidate ? 100 : 0]));
  const plan = state.plan ? { ...state.plan, status: 'promoted' as const, step: state.plan.steps.length - 1, reason } : undefined;
  const promoted: RolloutState = { ...state, stable: candidate, weights, ...(plan ? { plan } : {}) };
  delete promoted.candidate;
  return RolloutStateSchema.parse(promoted);
}

/** Why there is nothing to roll back, or undefined when a rollback would change something. */
function nothingToRollBack(state: RolloutState): string | undefined {
  const plan = state.plan;
  if (plan?.status === 'running' || plan?.status === 'paused') return undefined;
  if (Object.entries(state.weights).some(([variant, weight]) => variant !== state.stable && weight > 0)) return undefined;
  const why = plan?.reason ? ` (${plan.reason})` : '';
  if (plan?.status === 'promoted') return `nothing to roll back: the rollout was already promoted${why}; '${state.stable}' is now the stable variant with all traffic`;
  if (plan?.status === 'rolled_back') return `nothing to roll back: the rollout was already rolled back${why}; '${state.stable}' has all traffic`;
  return `nothing to roll back: no rollout is running or paused and the stable variant '${state.stable}' already has all traffic`;
}

/**
 * Everything back to the stable variant at once. Refused with a
 * RolloutConflictError when no plan is running or paused and the stable
 * variant already has all traffic (e.g. after a promotion), so an operator's
 * rollback is never recorded as a change that changed nothing.
 */
export function rollback(state: RolloutState, reason: string): RolloutState {
  const refusal = nothingToRollBack(state);
  if (refusal) throw new RolloutConflictError(refusal);
  const weights = Object.fromEntries(Object.keys(state.weights).map((v) => [v, v === state.stable ? 100 : 0]));
  const plan = state.plan ? { ...state.plan, status: 'rolled_back' as const, reason } : undefined;
  return RolloutStateSchema.parse({ ...state, weights, ...(plan ? { plan } : {}) });
}

export function setKill(state: RolloutState, on: boolean): RolloutState {
  return { ...state, kill: on };
}
