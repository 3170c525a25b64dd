/**
 * Runs a model worker as a child process: starts it on a given or free
 * port, waits until it reports ready, and stops it with SIGTERM (graceful
 * drain).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const WORKER_ENTRY = createRequire(import.meta.url).resolve('@switchyard/model-worker/server');
/** Workers run their TypeScript sources directly; resolved from the working directory up. */
const TS_LOADER = 'tsx';

export interface WorkerProcessOptions {
  model: string;
  repository: string;
  /** Default: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Extra environment for the worker (e.g. `OTEL_*`, `LOG_LEVEL`). */
  env?: Record<string, string>;
  /** Receives every stdout/stderr line of the worker. */
  onLine?: (line: string) => void;
  /** How long to wait for readiness. Default 120 s. */
  readyTimeoutMs?: number;
}

export interface WorkerProcess {
  model: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the worker printed so far. */
  lines: string[];
  /** SIGTERM (or `signal`), then resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
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

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v2/health/ready`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts a worker and resolves once `/v2/health/ready` answers 200. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { model, repository, host = '127.0.0.1', env = {}, onLine, readyTimeoutMs = 120_000 } = options;
  const port = options.port || (await freePort(host));
  const url = `http://${host}:${port}`;
  const child = spawn(process.execPath, ['--import', TS_LOADER, WORKER_ENTRY], {
    env: { ...process.env, SWITCHYARD_MODEL: model, SWITCHYARD_MODEL_REPOSITORY: repository, PORT: String(port), HOST: host, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const record = (line: string): void => {
    lines.push(line);
    onLine?.(line);
  };
  createInterface({ input: child.stdout }).on('line', record);
  createInterface({ input: child.stderr }).on('line', record);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await isReady(url))) {
    if (exitCode !== undefined) {
      // Let the last output lines arrive before reporting them.
      await new Promise((r) => setTimeout(r, 50));
      throw new WorkerStartError(`worker for '${model}' exited with code ${exitCode} before it was ready:\n${lines.slice(-20).join('\n')}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new WorkerStartError(`worker for '${model}' not ready within ${readyTimeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    model,
    url,
    port,
    child,
    lines,
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
