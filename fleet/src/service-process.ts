/**
 * Runs a Switchyard service (worker or gateway) as a child process: starts
 * it on a given or free port, waits until its readiness endpoint answers
 * 200, and stops it with SIGTERM (graceful drain).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

/** Services run their TypeScript sources directly, through tsx's loader (resolved here, so any working directory works). */
const TS_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Lets OpenTelemetry patch packages the services load through ESM `import` (ioredis); must come before the entry runs. */
const TELEMETRY_REGISTER = pathToFileURL(createRequire(import.meta.url).resolve('@switchyard/observability/register')).href;

export interface ServiceProcessOptions {
  /** Name used in errors, e.g. `seed-classifier/v2#0`. */
  name: string;
  /** Absolute path of the service's Node entry. */
  entry: string;
  /** Default: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  env?: Record<string, string>;
  /** Path polled until it answers 200. Default `/v2/health/ready`. */
  readyPath?: string;
  onLine?: (line: string) => void;
  /** Default 120 s. */
  readyTimeoutMs?: number;
}

export interface ServiceProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the service printed so far. */
  lines: string[];
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** SIGTERM (or `signal`), then resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const { name, entry, host = '127.0.0.1', env = {}, readyPath = '/v2/health/ready', onLine, readyTimeoutMs = 120_000 } = options;
  const port = options.port || (await freePort(host));
  const url = `http://${host}:${port}`;
  const child = spawn(process.execPath, ['--import', TS_LOADER, '--import', TELEMETRY_REGISTER, entry], {
    env: { ...process.env, PORT: String(port), HOST: host, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const record = (line: string): void => {
    lines.push(line);
    if (lines.length > 5000) lines.splice(0, 1000);
    onLine?.(line);
  };
  createInterface({ input: child.stdout }).on('line', record);
  createInterface({ input: child.stderr }).on('line', record);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await answers200(`${url}${readyPath}`))) {
    if (exitCode !== undefined) {
      await new Promise((r) => setTimeout(r, 50)); // let the last lines arrive
      throw new ServiceStartError(`${name} exited with code ${exitCode} before it was ready:\n${lines.slice(-20).join('\n')}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ServiceStartError(`${name} not ready within ${readyTimeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    name,
    url,
    port,
    child,
    lines,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
