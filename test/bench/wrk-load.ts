/**
 * Open-ended HTTP load from `wrk` (Debian's package), a C client whose own
 * CPU cost is small next to the services measured: `connections` keep-alive
 * connections on one wrk thread, POSTing one body for `durationS` seconds.
 * The Lua script prints wrk's summary as one JSON line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkOptions {
  url: string;
  body: string;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
}

export interface WrkResult {
  requests: number;
  elapsedS: number;
  /** Non-2xx/3xx answers plus socket errors and timeouts. */
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

/** Whether `wrk` is on the PATH. */
export async function hasWrk(): Promise<boolean> {
  try {
    await run('wrk', ['--version']);
    return true;
  } catch (error) {
    // wrk --version prints its banner and exits 1.
    return typeof error === 'object' && error !== null && 'stdout' in error && String(error.stdout).startsWith('wrk');
  }
}

const luaString = (value: string): string => JSON.stringify(value);

function script(options: WrkOptions): string {
  const headers = { 'content-type': 'application/json', ...options.headers };
  return [
    'wrk.method = "POST"',
    `wrk.body = ${luaString(options.body)}`,
    ...Object.entries(headers).map(([k, v]) => `wrk.headers[${luaString(k)}] = ${luaString(v)}`),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'{"requests":%d,"durationUs":%d,"socketErrors":%d,"status":%d,"p50Us":%d,"p99Us":%d}\\n\',',
    '    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))',
    'end',
  ].join('\n');
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-wrk-'));
  try {
    const path = join(dir, 'load.lua');
    await writeFile(path, script(options));
    const { stdout } = await run('wrk', ['-t1', `-c${options.connections}`, `-d${options.durationS}s`, '--timeout', '10s', '-s', path, options.url], { maxBuffer: 1 << 20 });
    const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
    const s = JSON.parse(line) as { requests: number; durationUs: number; socketErrors: number; status: number; p50Us: number; p99Us: number };
    return { requests: s.requests, elapsedS: s.durationUs / 1e6, errors: s.socketErrors + s.status, p50Ms: s.p50Us / 1000, p99Ms: s.p99Us / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
