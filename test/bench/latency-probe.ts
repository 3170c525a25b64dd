/**
 * Sequential request latency with microsecond resolution (one keep-alive
 * connection, one request at a time): for comparing small added latencies,
 * which whole-millisecond load-tool histograms cannot show.
 */
import { Pool } from 'undici';
import { summarize, type Measurement } from './measurement.ts';

export interface ProbeOptions {
  url: string;
  body: string;
  headers?: Record<string, string>;
  requests: number;
}

export async function probeLatency({ url, body, headers = {}, requests }: ProbeOptions): Promise<Measurement> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 1 });
  const send = async () => {
    const res = await pool.request({ path: target.pathname, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    await res.body.dump();
    return res.statusCode;
  };
  try {
    for (let i = 0; i < 200; i++) await send(); // warm-up
    const latencies: number[] = [];
    let errors = 0;
    const started = performance.now();
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      if ((await send()) !== 200) errors++;
      latencies.push(performance.now() - t0);
    }
    return summarize(requests, (performance.now() - started) / 1000, latencies, errors);
  } finally {
    await pool.close();
  }
}

export interface ProbeTarget {
  url: string;
  body: string;
  headers?: Record<string, string>;
}

/**
 * Like `probeLatency` for several targets at once, taken in interleaved
 * rounds (each round sends `requests / rounds` to every target in turn), so
 * that drift in a noisy machine's speed falls on every target alike.
 */
export async function probeLatencies(targets: readonly ProbeTarget[], requests: number, rounds = 10): Promise<Measurement[]> {
  const pools = targets.map((t) => ({ target: new URL(t.url), pool: new Pool(new URL(t.url).origin, { connections: 1 }), ...t }));
  const send = async ({ target, pool, body, headers = {} }: (typeof pools)[number]) => {
    const res = await pool.request({ path: target.pathname, method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    await res.body.dump();
    return res.statusCode;
  };
  try {
    for (const p of pools) for (let i = 0; i < 200; i++) await send(p); // warm-up
    const latencies = pools.map((): number[] => []);
    const errors = pools.map(() => 0);
    const elapsed = pools.map(() => 0);
    const perRound = Math.ceil(requests / rounds);
    for (let round = 0; round < rounds; round++) {
      for (const [k, p] of pools.entries()) {
        const started = performance.now();
        for (let i = 0; i < perRound; i++) {
          const t0 = performance.now();
          if ((await send(p)) !== 200) errors[k]!++;
          latencies[k]!.push(performance.now() - t0);
        }
        elapsed[k]! += performance.now() - started;
      }
    }
    return pools.map((_, k) => summarize(latencies[k]!.length, elapsed[k]! / 1000, latencies[k]!, errors[k]));
  } finally {
    await Promise.all(pools.map((p) => p.pool.close()));
  }
}
