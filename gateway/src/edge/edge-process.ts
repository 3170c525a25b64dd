/**
 * One edge worker's Deno process, supervised: started with least privilege
 * (listen on its own loopback port, reach the gateway's model binding and
 * the hosts the config grants; no env, files, subprocesses or FFI), a V8
 * heap limit, and restarted with exponential backoff when it exits. A
 * request that outlives the timeout gets the process SIGKILLed (a busy loop
 * ignores SIGTERM); the supervisor then starts a fresh one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { edgeHostArgs, type EdgeHostSettings } from '@switchyard/fleet-config/edge-host';
import type { EdgeWorkerConfig } from '@switchyard/fleet-config/schema';
import type { Logger } from '@switchyard/observability/logger';
import { Pool, type Dispatcher } from 'undici';
import { EdgeFailure, InflightRequests, type EdgeHost, type EdgeResponse } from './edge-host.ts';

export interface EdgeProcessOptions {
  name: string;
  spec: EdgeWorkerConfig;
  /** The Deno binary. */
  deno: string;
  /** The generated entry file that imports the module and the host. */
  entry: string;
  /** `host:port` of the gateway's model binding. */
  bindingAddress: string;
  token: string;
  /** Deno's built-in OpenTelemetry settings (`OTEL_*`), when the gateway exports traces. */
  telemetryEnv?: Record<string, string>;
  logger: Logger;
  /** How long a start may take before it counts as failed. Default 15 s. */
  startTimeoutMs?: number;
  onRestart?: () => void;
}

const MAX_BACKOFF_MS = 5000;

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class EdgeProcess implements EdgeHost {
  readonly #options: EdgeProcessOptions;
  #child: ChildProcess | undefined;
  #pool: Pool | undefined;
  #ready: Promise<void> | undefined;
  #stopping = false;
  #failedStarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #inflight = new InflightRequests();
  restarts = 0;

  constructor(options: EdgeProcessOptions) {
    this.#options = options;
  }

  get inflight(): number {
    return this.#inflight.count;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process and resolves once it listens; rejects if it does not come up. */
  start(): Promise<void> {
    this.#ready = this.#spawn();
    return this.#ready;
  }

  async #spawn(): Promise<void> {
    const { spec, deno, entry, bindingAddress, token, telemetryEnv, logger, name, startTimeoutMs = 15_000 } = this.#options;
    const port = await freeLoopbackPort();
    if (this.#stopping) throw new Error(`edge worker '${name}' was stopped`);
    const args = edgeHostArgs({ listen: `127.0.0.1:${port}`, binding: bindingAddress, spec, entry });
    // The module cannot read the environment; Deno itself needs HOME/DENO_DIR for its cache, and OTEL_* for its tracing.
    const env: Record<string, string> = { NO_COLOR: '1', ...telemetryEnv };
    for (const key of ['HOME', 'PATH', 'DENO_DIR']) if (process.env[key]) env[key] = process.env[key];
    const child = spawn(deno, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.#child = child;
    // stdin stays open: the host exits when it closes, i.e. when this gateway is gone.
    const settings: EdgeHostSettings = { port, binding: `http://${bindingAddress}`, token, vars: spec.vars, ...(telemetryEnv ? { tracing: true } : {}) };
    child.stdin.write(`${JSON.stringify(settings)}\n`);
    child.stdin.on('error', (error) => logger.debug({ edge_worker: name, error: error.message }, 'edge worker stdin closed'));
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 20) stderr.shift();
      logger.warn({ edge_worker: name, stream: 'stderr', line }, 'edge worker output');
    });
    const lines = createInterface({ input: child.stdout });
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`edge worker '${name}' did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
      lines.on('line', (line) => {
        if (line === 'ready' && !this.#pool) {
          clearTimeout(timer);
          this.#pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
          resolve();
        } else logger.info({ edge_worker: name, stream: 'stdout', line }, 'edge worker output');
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`edge worker '${name}' exited (${signal ?? `code ${code}`}) before it was ready: ${stderr.join(' | ')}`));
      });
    });
    child.once('exit', (code, signal) => this.#exited(child, code, signal));
    try {
      await started;
      this.#failedStarts = 0;
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    const pool = this.#pool;
    this.#pool = undefined;
    this.#child = undefined;
    void pool?.destroy();
    if (this.#stopping) return;
    this.#failedStarts++;
    // The first restart is immediate; a module that keeps dying backs off.
    const delay = this.#failedStarts <= 1 ? 0 : Math.min(100 * 2 ** (this.#failedStarts - 2), MAX_BACKOFF_MS);
    this.#options.logger.warn({ edge_worker: this.#options.name, code, signal, restart_in_ms: delay }, 'edge worker exited; restarting');
    // Requests wait on the restart rather than failing while the process comes back.
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#restartTimer = setTimeout(() => {
        this.restarts++;
        this.#options.onRestart?.();
        this.#spawn().then(resolve, reject);
      }, delay);
    });
    // A failed restart is logged here; its exit schedules the next attempt.
    this.#ready.catch((error: unknown) => this.#options.logger.error({ edge_worker: this.#options.name, error: (error as Error).message }, 'edge worker restart failed'));
  }

  /** Replaces a process that overran its time (it may be spinning: only SIGKILL stops it) or dropped a request. */
  #replace(child: ChildProcess): void {
    child.kill('SIGKILL');
    this.#exited(child, null, 'SIGKILL');
  }

  /**
   * Sends one request to the module. Waiting for a (re)starting process is
   * bounded by the start timeout; the module's own time by `timeoutMs`, after
   * which its process is killed and replaced.
   */
  async dispatch(request: Dispatcher.RequestOptions, timeoutMs: number): Promise<EdgeResponse> {
    const ready = this.#ready;
    if (!ready || this.#stopping) throw new EdgeFailure('unavailable', 'is not running');
    this.#inflight.enter();
    try {
      try {
        await ready;
      } catch (error) {
        throw new EdgeFailure('unavailable', `is not running (${(error as Error).message})`);
      }
      const pool = this.#pool;
      const child = this.#child;
      if (!pool || !child) throw new EdgeFailure('unavailable', 'is restarting');
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const res = await pool.request({ ...request, signal });
        return { status: res.statusCode, headers: res.headers, body: new Uint8Array(await res.body.arrayBuffer()) };
      } catch (error) {
        if (this.#child === child) this.#replace(child);
        if (signal.aborted) throw new EdgeFailure('timeout', `did not answer within ${timeoutMs} ms`);
        throw new EdgeFailure('crash', `failed mid-request (${(error as { code?: string }).code ?? (error as Error).message})`);
      }
    } finally {
      this.#inflight.leave();
    }
  }

  /** Waits for in-flight requests (at most `graceMs`), then stops the process for good. */
  async stop(graceMs = 0): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    this.#ready = undefined;
    await this.#inflight.drained(graceMs);
    const child = this.#child;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
}
