import { describe, expect, it } from 'vitest';
import { evaluateRollout } from './evaluate-rollout.ts';
import { RolloutStateSchema, type RolloutState } from './rollout-state.ts';

const state = (overrides: Partial<RolloutState> = {}): RolloutState =>
  RolloutStateSchema.parse({ stable: 'v1', candidate: 'v2', weights: { v1: 90, v2: 10 }, ...overrides });
const subjects = Array.from({ length: 10_000 }, (_, i) => `subject-${i}`);

describe('rollout evaluation', () => {
  it('keeps every candidate subject in the candidate as the share grows from 10% to 20%', () => {
    const at10 = subjects.map((s) => evaluateRollout('m', state(), { targetingKey: s }).variant);
    const at20 = subjects.map((s) => evaluateRollout('m', state({ weights: { v1: 80, v2: 20 } }), { targetingKey: s }).variant);
    at10.forEach((variant, i) => {
      if (variant === 'v2') expect(at20[i]).toBe('v2');
    });
    expect(Math.abs(at10.filter((v) => v === 'v2').length / 10_000 - 0.1)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(at20.filter((v) => v === 'v2').length / 10_000 - 0.2)).toBeLessThanOrEqual(0.02);
  });

  it('sends allowlisted subjects and tenants to the candidate, whatever the weights', () => {
    const s = state({ weights: { v1: 100, v2: 0 }, allow: { subjects: ['vip'], tenants: ['beta-corp'] } });
    expect(evaluateRollout('m', s, { targetingKey: 'vip' })).toEqual({ variant: 'v2', reason: 'TARGETING_MATCH', rule: 'allow' });
    expect(evaluateRollout('m', s, { targetingKey: 'anyone', tenant: 'beta-corp' }).variant).toBe('v2');
    expect(evaluateRollout('m', s, { targetingKey: 'anyone', tenant: 'acme' })).toEqual({ variant: 'v1', reason: 'SPLIT', rule: 'split' });
  });

  it('lets the denylist win over the allowlist, and the kill switch over everything', () => {
    const s = state({ weights: { v1: 0, v2: 100 }, allow: { subjects: ['vip'], tenants: [] }, deny: { subjects: [], tenants: ['acme'] } });
    expect(evaluateRollout('m', s, { targetingKey: 'vip', tenant: 'acme' }).variant).toBe('v1');
    expect(evaluateRollout('m', s, { targetingKey: 'vip', tenant: 'other' }).variant).toBe('v2');
    const killed = { ...s, kill: true };
    for (const subject of subjects.slice(0, 500)) expect(evaluateRollout('m', killed, { targetingKey: subject }).variant).toBe('v1');
    expect(evaluateRollout('m', killed, { targetingKey: 'vip', tenant: 'other' })).toEqual({ variant: 'v1', reason: 'DISABLED', rule: 'kill' });
  });

  it('applies attribute rules in order before the split', () => {
    const s = state({ weights: { v1: 100, v2: 0 }, rules: [{ attribute: 'region', in: ['eu-west'], variant: 'v2' }] });
    expect(evaluateRollout('m', s, { targetingKey: 'x', region: 'eu-west' })).toEqual({ variant: 'v2', reason: 'TARGETING_MATCH', rule: 'rule:region' });
    expect(evaluateRollout('m', s, { targetingKey: 'x', region: 'us-east' }).variant).toBe('v1');
  });

  it('refuses states whose weights, stable, candidate or rules do not add up', () => {
    expect(() => state({ weights: { v1: 50, v2: 40 } })).toThrowError(/weights must sum to 100/);
    expect(() => state({ stable: 'v3' })).toThrowError(/'v3' has no weight/);
    expect(() => state({ rules: [{ attribute: 'region', in: ['x'], variant: 'v9' }] })).toThrowError(/'v9' has no weight/);
    expect(() => RolloutStateSchema.parse({ stable: 'v1', weights: { v1: 100 }, plan: {} })).toThrowError(/a running plan needs a candidate/);
  });
});
