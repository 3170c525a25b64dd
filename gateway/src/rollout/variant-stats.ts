/**
 * Live per-variant outcomes over a sliding window of one-second buckets:
 * request count, non-5xx count and latencies (a bounded sample per bucket,
 * for p50/p99). Feeds the rollout guards and the admin API.
 */
import { percentile } from '@switchyard/observability/percentile';

const WINDOW_SECONDS = 300;
const SAMPLES_PER_BUCKET = 500;

interface Bucket {
  second: number;
  requests: number;
  ok: number;
  latencies: number[];
}

export interface VariantSummary {
  requests: number;
  /** Share of non-5xx answers (1 when there were no requests). */
  successRate: number;
  p50Ms: number;
  p99Ms: number;
}

export class VariantStats {
  readonly #series = new Map<string, Bucket[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  record(model: string, variant: string, status: number, seconds: number): void {
    const key = `${model}\u0000${variant}`;
    const second = Math.floor(this.#now() / 1000);
    let buckets = this.#series.get(key);
    if (!buckets) this.#series.set(key, (buckets = []));
    let bucket = buckets.at(-1);
    if (bucket?.second !== second) {
      bucket = { second, requests: 0, ok: 0, latencies: [] };
      buckets.push(bucket);
      while ((buckets[0]?.second ?? second) <= second - WINDOW_SECONDS) buckets.shift();
    }
    bucket.requests++;
    if (status < 500) bucket.ok++;
    if (bucket.latencies.length < SAMPLES_PER_BUCKET) bucket.latencies.push(seconds * 1000);
  }

  /** Outcomes since `sinceMs` (within the last five minutes). */
  summary(model: string, variant: string, sinceMs: number): VariantSummary {
    const from = Math.floor(sinceMs / 1000);
    let requests = 0;
    let ok = 0;
    const latencies: number[] = [];
    for (const b of this.#series.get(`${model}\u0000${variant}`) ?? []) {
      if (b.second < from) continue;
      requests += b.requests;
      ok += b.ok;
      latencies.push(...b.latencies);
    }
    latencies.sort((a, b) => a - b);
    return { requests, successRate: requests === 0 ? 1 : ok / requests, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  }
}
