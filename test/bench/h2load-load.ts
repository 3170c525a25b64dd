/**
 * Closed-loop load from `h2load` (Debian's nghttp2-client), a C client whose
 * own CPU cost is small next to the services measured and the same for
 * every transport: HTTP/1.1 keep-alive (`http/1.1`) or HTTP/2 over
 * cleartext with prior knowledge (`h2c`, what gRPC clients speak),
 * `connections` clients with one request in flight each, one body for
 * `durationS` seconds after a separate warm-up run. Percentiles come from
 * h2load's per-request log (microseconds). h2load reads HTTP status codes
 * only: a gRPC error is an HTTP 200 with a non-zero `grpc-status` trailer,
 * so callers that need it check successes another way (the worker's
 * statistics).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { percentile } from '@switchyard/observability/percentile';

const run = promisify(execFile);

export interface H2loadOptions {
  url: string;
  body: Uint8Array;
  headers: Record<string, string>;
  protocol: 'http/1.1' | 'h2c';
  connections: number;
  durationS: number;
  /** Called after the warm-up run, right before the measured one. */
  onMeasureStart?: () => void | Promise<void>;
}

export interface H2loadResult {
  /** Requests answered 2xx. */
  ok: number;
  /** Requests answered otherwise, failed or timed out. */
  errors: number;
  elapsedS: number;
  p50Ms: number;
  p99Ms: number;
}

/** Whether `h2load` is on the PATH. */
export async function hasH2load(): Promise<boolean> {
  try {
    await run('h2load', ['--version']);
    return true;
  } catch {
    return false;
  }
}

async function once(options: H2loadOptions, durationS: number, dir: string): Promise<H2loadResult> {
  const bodyPath = join(dir, 'body');
  const logPath = join(dir, `log-${durationS}`);
  await writeFile(bodyPath, options.body);
  const args = [
    ...(options.protocol === 'http/1.1' ? ['--h1'] : []),
    '-c', String(options.connections), '-m', '1', '-D', String(durationS), '-d', bodyPath, `--log-file=${logPath}`,
    ...Object.entries(options.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    options.url,
  ];
  const { stdout } = await run('h2load', args, { maxBuffer: 1 << 22 });
  const finished = /finished in ([\d.]+)s/.exec(stdout);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const status = /status codes: (\d+) 2xx/.exec(stdout);
  if (!finished || !counts || !status) throw new Error(`h2load printed no summary:\n${stdout}`);
  // A stream cut off by the end of the run may have had its 2xx headers (counted) but not finished (not done).
  const ok = Math.min(Number(status[1]), Number(counts[3]));
  const done = Number(counts[2]);
  // Per-request log lines: start time (µs since the epoch), HTTP status, duration (µs).
  const latencies = (await readFile(logPath, 'utf8')).split('\n').filter(Boolean).map((line) => Number(line.split('\t')[2]) / 1000).sort((a, b) => a - b);
  return {
    ok,
    errors: Math.max(0, done - ok) + Number(counts[5]) + Number(counts[6]),
    elapsedS: Number(finished[1]),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-h2load-'));
  try {
    await once(options, 2, dir); // warm-up: connections, JIT
    await options.onMeasureStart?.();
    return await once(options, options.durationS, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
