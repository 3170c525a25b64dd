/**
 * Sticky weighted splits. A subject hashes (with the model) into one of
 * 10,000 buckets; variants own consecutive bucket ranges in a fixed order,
 * the stable variant first. Raising a candidate's weight therefore only
 * moves subjects from the other variants to the candidate, never back.
 */
import { murmur3 } from './murmur3.ts';

export const BUCKETS = 10_000;

export interface WeightedVariant {
  name: string;
  /** Percent of traffic, 0–100. */
  weight: number;
}

/** The bucket of a subject for a model: 0 ≤ bucket < 10,000. */
export function bucketOf(model: string, subject: string): number {
  return murmur3(`${model}:${subject}`) % BUCKETS;
}

/**
 * Picks the variant owning `bucket`. Candidates (everything but the stable
 * variant) take buckets from the top down, in the order given; the stable
 * variant keeps the rest. So growing a candidate extends its range downward
 * into the stable range, and subjects already in it stay.
 */
export function pickVariant(variants: readonly WeightedVariant[], stable: string, bucket: number): string {
  let upper = BUCKETS;
  for (const variant of variants) {
    if (variant.name === stable) continue;
    const size = Math.round((variant.weight / 100) * BUCKETS);
    if (bucket >= upper - size && bucket < upper) return variant.name;
    upper -= size;
  }
  return stable;
}
