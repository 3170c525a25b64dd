/**
 * In-process GCRA buckets: the store of a single gateway replica (no
 * `REDIS_URL`), and the per-replica fallback when Redis is unreachable.
 */
import { decide, type LimitCheck, type LimitOutcome, type RateLimitStore } from './gcra.ts';

/** Expired buckets are swept after this many writes. */
const SWEEP_EVERY = 10_000;

export class MemoryRateLimitStore implements RateLimitStore {
  readonly #tats = new Map<string, number>();
  readonly #now: () => number;
  #writes = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  check(checks: readonly LimitCheck[]): Promise<LimitOutcome[]> {
    const now = this.#now();
    const decisions = checks.map((check) => decide(check, this.#tats.get(check.key), now));
    const allowed = decisions.every((d) => d.outcome.allowed);
    if (allowed) {
      decisions.forEach((d, i) => this.#tats.set((checks[i] as LimitCheck).key, d.newTat));
      if ((this.#writes += checks.length) >= SWEEP_EVERY) this.#sweep(now);
    }
    return Promise.resolve(decisions.map((d) => (allowed || !d.outcome.allowed ? d.outcome : { ...d.outcome, remaining: d.outcome.remaining + 1 })));
  }

  #sweep(now: number): void {
    this.#writes = 0;
    for (const [key, tat] of this.#tats) if (tat <= now) this.#tats.delete(key);
  }

  close(): Promise<void> {
    this.#tats.clear();
    return Promise.resolve();
  }
}
