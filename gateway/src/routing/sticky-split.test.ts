import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, BUCKETS, pickVariant, type WeightedVariant } from './sticky-split.ts';

const subjects = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const split = (candidate: number): WeightedVariant[] => [
  { name: 'v1', weight: 100 - candidate },
  { name: 'v2', weight: candidate },
];
const assign = (variants: WeightedVariant[]) => subjects.map((s) => pickVariant(variants, 'v1', bucketOf('seed-classifier', s)));

describe('sticky split', () => {
  it.each([10, 25, 50, 90])('sends %i%% of 10,000 subjects to the candidate, within ±2%%', (candidate) => {
    const share = assign(split(candidate)).filter((v) => v === 'v2').length / subjects.length;
    expect(Math.abs(share - candidate / 100)).toBeLessThanOrEqual(0.02);
  });

  it('gives a subject the same variant every time for the same weights', () => {
    expect(assign(split(30))).toEqual(assign(split(30)));
  });

  it('only moves subjects toward the candidate when its weight rises', () => {
    const steps = [0, 5, 10, 20, 50, 100];
    for (let i = 1; i < steps.length; i++) {
      const before = assign(split(steps[i - 1] ?? 0));
      const after = assign(split(steps[i] ?? 0));
      before.forEach((variant, s) => {
        if (variant === 'v2') expect(after[s]).toBe('v2');
      });
    }
  });

  it('splits three ways by weight, stable taking the rest', () => {
    const variants = [{ name: 'stable', weight: 60 }, { name: 'a', weight: 30 }, { name: 'b', weight: 10 }];
    const counts = new Map<string, number>();
    for (const s of subjects) {
      const v = pickVariant(variants, 'stable', bucketOf('m', s));
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect(Math.abs((counts.get('a') ?? 0) / 10_000 - 0.3)).toBeLessThanOrEqual(0.02);
    expect(Math.abs((counts.get('b') ?? 0) / 10_000 - 0.1)).toBeLessThanOrEqual(0.02);
  });

  it('keeps buckets in range and always names a configured variant', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 0, max: 100 }), (model, subject, candidate) => {
        const bucket = bucketOf(model, subject);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(BUCKETS);
        expect(['v1', 'v2']).toContain(pickVariant(split(candidate), 'v1', bucket));
      }),
    );
  });
});
