/**
 * Decides a request's variant from a rollout state: kill switch, denylist,
 * allowlist, attribute rules, then the sticky weighted split (the same
 * buckets as before flags existed, so widening stays monotonic).
 */
import { bucketOf, pickVariant } from '../routing/sticky-split.ts';
import type { RolloutState } from './rollout-state.ts';

export interface RolloutContext {
  /** The sticky key: end user or principal subject. */
  targetingKey: string;
  subject?: string;
  tenant?: string;
  [attribute: string]: string | undefined;
}

export type RolloutReason = 'DISABLED' | 'TARGETING_MATCH' | 'SPLIT';

export interface RolloutDecision {
  variant: string;
  reason: RolloutReason;
  /** Which check decided: kill, deny, allow, rule:<attribute>, split. */
  rule: string;
}

export function evaluateRollout(model: string, state: RolloutState, ctx: RolloutContext): RolloutDecision {
  if (state.kill) return { variant: state.stable, reason: 'DISABLED', rule: 'kill' };
  const subjects = [ctx.targetingKey, ctx.subject];
  const inAudience = (a: RolloutState['allow']) =>
    subjects.some((s) => s !== undefined && a.subjects.includes(s)) || (ctx.tenant !== undefined && a.tenants.includes(ctx.tenant));
  if (inAudience(state.deny)) return { variant: state.stable, reason: 'TARGETING_MATCH', rule: 'deny' };
  if (state.candidate !== undefined && inAudience(state.allow)) return { variant: state.candidate, reason: 'TARGETING_MATCH', rule: 'allow' };
  for (const rule of state.rules) {
    const value = ctx[rule.attribute];
    if (value !== undefined && rule.in.includes(value)) return { variant: rule.variant, reason: 'TARGETING_MATCH', rule: `rule:${rule.attribute}` };
  }
  const weights = Object.entries(state.weights).map(([name, weight]) => ({ name, weight }));
  return { variant: pickVariant(weights, state.stable, bucketOf(model, ctx.targetingKey)), reason: 'SPLIT', rule: 'split' };
}
