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
