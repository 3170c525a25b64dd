import { percentile } from '@switchyard/observability/percentile';

/** What every benchmark row reports. */
export interface Measurement {
  rowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

export function summarize(rows: number, elapsedS: number, latenciesMs: number[], errors = 0): Measurement {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { rowsPerSecond: rows / elapsedS, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), requests: latenciesMs.length, errors };
}
