/**
 * GCRA (generic cell rate algorithm): a smooth limit of `rate` requests per
 * period with `burst` allowed at once, stored as one timestamp per bucket
 * (the theoretical arrival time, TAT). No window edges, so no double bursts.
 */

/** One bucket to charge: `intervalMs` between requests at the sustained rate. */
export interface LimitCheck {
  key: string;
  intervalMs: number;
  burst: number;
}

export interface LimitOutcome {
  allowed: boolean;
  /** Requests that could still be made at once after this decision. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  resetMs: number;
  /** When refused: milliseconds until a request would be admitted. */
  retryAfterMs: number;
}

export interface RateLimitStore {
  /**
   * Charges every check, all or nothing: when any is refused, none is
   * charged. Rejects when the store cannot be reached.
   */
  check(checks: readonly LimitCheck[]): Promise<LimitOutcome[]>;
  close(): Promise<void>;
}

/** The GCRA decision for one bucket given its stored TAT (or undefined). */
export function decide(check: LimitCheck, storedTat: number | undefined, now: number): { outcome: LimitOutcome; newTat: number } {
  const { intervalMs, burst } = check;
  const tat = Math.max(storedTat ?? now, now);
  const newTat = tat + intervalMs;
  const allowAt = newTat - intervalMs * burst;
  if (now < allowAt) {
    return { outcome: { allowed: false, remaining: 0, resetMs: Math.ceil(tat - now), retryAfterMs: Math.ceil(allowAt - now) }, newTat: tat };
  }
  return { outcome: { allowed: true, remaining: Math.floor((now - allowAt) / intervalMs), resetMs: Math.ceil(newTat - now), retryAfterMs: 0 }, newTat };
}
