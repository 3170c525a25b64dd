/** What every benchmark row reports. */
export interface Measurement {
  rowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export function summarize(rows: number, elapsedS: number, latenciesMs: number[], errors = 0): Measurement {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { rowsPerSecond: rows / elapsedS, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), requests: latenciesMs.length, errors };
}
