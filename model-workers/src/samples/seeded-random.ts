/**
 * Deterministic pseudo-random numbers for sample models and datasets, so the
 * generated repository is byte-identical on every machine.
 */

/** A seeded uniform generator in [0, 1) (mulberry32). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded standard normal generator (Box–Muller over {@link seededUniform}). */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  return function next(): number {
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}
