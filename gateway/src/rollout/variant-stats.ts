/**
 * Live per-variant outcomes over a sliding window of one-second buckets:
 * request count, non-5xx count, latencies (a bounded sample per bucket,
 * for p50/p99) and which callers (subjects) sent them. Feeds the rollout
 * guards and the admin API. What is recorded is what the variant did: the
 * proxy records each upstream attempt (its status, 504 for no answer in
 * time, 502 for unreachable), timed from sending upstream to the response
 * headers; clients that go away and gateway refusals are not recorded.
 */
import { percentile } from '@switchyard/observability/percentile';

const WINDOW_SECONDS = 300;
const SAMPLES_PER_BUCKET = 500;
/** Distinct subjects remembered per bucket; guards need only a handful. */
const SUBJECTS_PER_BUCKET = 64;

interface Bucket {
  second: number;
  requests: number;
  ok: number;
  latencies: number[];
  subjects: Set<string>;
  failingSubjects: Set<string>;
}

export interface VariantSummary {
  requests: number;
  /** Share of non-5xx answers (1 when there were no requests). */
  successRate: number;
  p50Ms: number;
  p99Ms: number;
  /** Distinct subjects that sent the requests. */
  subjects: number;
  /** Distinct subjects that saw a 5xx. */
  failingSubjects: number;
}

function remember(set: Set<string>, subject: string): void {
  if (set.size < SUBJECTS_PER_BUCKET) set.add(subject);
}

export class VariantStats {
  readonly #series = new Map<string, Bucket[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** One upstream outcome of `variant`, for a request from `subject` (see `subjectKey`). */
  record(model: string, variant: string, status: number, seconds: number, subject: string): void {
    const key = `${model}\u0000${variant}`;
    const second = Math.floor(this.#now() / 1000);
    let buckets = this.#series.get(key);
    if (!buckets) this.#series.set(key, (buckets = []));
    let bucket = buckets.at(-1);
    if (bucket?.second !== second) {
      bucket = { second, requests: 0, ok: 0, latencies: [], subjects: new Set(), failingSubjects: new Set() };
      buckets.push(bucket);
      while ((buckets[0]?.second ?? second) <= second - WINDOW_SECONDS) buckets.shift();
    }
    bucket.requests++;
    remember(bucket.subjects, subject);
    if (status < 500) bucket.ok++;
    else remember(bucket.failingSubjects, subject);
    if (bucket.latencies.length < SAMPLES_PER_BUCKET) bucket.latencies.push(seconds * 1000);
  }

  /** Outcomes since `sinceMs` (within the last five minutes). */
  summary(model: string, variant: string, sinceMs: number): VariantSummary {
    const from = Math.floor(sinceMs / 1000);
    let requests = 0;
    let ok = 0;
    const latencies: number[] = [];
    const subjects = new Set<string>();
    const failing = new Set<string>();
    for (const b of this.#series.get(`${model}\u0000${variant}`) ?? []) {
      if (b.second < from) continue;
      requests += b.requests;
      ok += b.ok;
      latencies.push(...b.latencies);
      for (const s of b.subjects) subjects.add(s);
      for (const s of b.failingSubjects) failing.add(s);
    }
    latencies.sort((a, b) => a - b);
    return {
      requests, successRate: requests === 0 ? 1 : ok / requests, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99),
      subjects: subjects.size, failingSubjects: failing.size,
    };
  }
}
