/** Closed-loop HTTP load with autocannon: `connections` clients, each one request at a time. */
import autocannon from 'autocannon';
import type { Measurement } from './measurement.ts';

export interface LoadOptions {
  url: string;
  /** JSON text, or raw bytes (e.g. a binary tensor body) with a content-type in `headers`. */
  body: string | Buffer;
  connections: number;
  durationS: number;
  /** Rows each request carries. */
  rowsPerRequest: number;
  headers?: Record<string, string>;
  /** Called after the warm-up, right before the measured run. */
  onMeasureStart?: () => void;
}

function run(options: LoadOptions, durationS: number): Promise<autocannon.Result> {
  return autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
    connections: options.connections,
    pipelining: 1,
    duration: durationS,
  });
}

export async function measureHttp(options: LoadOptions): Promise<Measurement> {
  await run(options, 1); // warm-up: connections, JIT, arenas
  options.onMeasureStart?.();
  const result = await run(options, options.durationS);
  const ok = result['2xx'];
  const elapsedS = result.duration;
  return {
    rowsPerSecond: (ok * options.rowsPerRequest) / elapsedS,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}
