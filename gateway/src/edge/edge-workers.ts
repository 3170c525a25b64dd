/**
 * The gateway's edge workers: one supervised Deno process per configured
 * worker, each behind its own circuit breaker, and the internal model
 * binding they call back into. The binding is an HTTP server on a random
 * loopback port; each call carries the per-process-set secret token and the
 * id of the gateway request it belongs to, and is handed to that request's
 * pipeline (`openCall`), so it goes to the already-routed variant.
 *
 * A worker with an `endpoint` runs elsewhere (a pod's sidecar): the gateway
 * calls it and leaves starting and restarting it to whoever runs it. An
 * `inline` worker runs in this process, not isolated (trusted code, tests).
 *
 * Kept across config reloads: `retain(config)` starts a new process for a
 * new or changed worker (module text or settings), switches traffic to it
 * once it listens, and drains the old one.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { edgeEntrySource, edgeHostTelemetryEnv, edgeServiceName, type EdgeTelemetry } from '@switchyard/fleet-config/edge-host';
import type { EdgeWorkerConfig, FleetConfig } from '@switchyard/fleet-config/schema';
import type { Logger } from '@switchyard/observability/logger';
import { withNodeBindings } from '@switchyard/observability/node-bindings';
import type { RuntimeBindings } from '@switchyard/observability/runtime-bindings';
import { CircuitBreaker, type BreakerState } from '../upstream/circuit-breaker.ts';
import { EDGE_CALL_HEADER, EDGE_TOKEN_HEADER } from './contract.ts';
import { EdgeEndpoint } from './edge-endpoint.ts';
import type { EdgeHost } from './edge-host.ts';
import { EdgeInline } from './edge-inline.ts';
import { EdgeProcess, freeLoopbackPort } from './edge-process.ts';

/** Serves one model-binding call; `bindings` are the host's for the call's own HTTP request. */
export type BindingHandler = (request: Request, bindings: RuntimeBindings | undefined) => Promise<Response>;

/** How long a replaced process may finish its requests. */
const DRAIN_MS = 30_000;

export interface EdgeWorkersOptions {
  logger: Logger;
  /** The Deno binary. Default: the one installed by the `deno` npm package. */
  deno?: string;
  breaker: { failures: number; cooldownMs: number };
  /** Loopback port of the model binding. Default 0: any free port (workers at an `endpoint` need a fixed one). */
  bindingPort?: number;
  /** Where the processes this gateway starts export their spans (Deno's built-in tracing); none: no tracing there. */
  telemetry?: EdgeTelemetry;
  onRestart?: (worker: string) => void;
  onBreakerChange?: (worker: string, state: BreakerState) => void;
}

export interface EdgeWorker {
  readonly name: string;
  readonly spec: EdgeWorkerConfig;
  readonly process: EdgeHost;
  readonly breaker: CircuitBreaker;
  /** Identifies the module text and settings this process runs. */
  readonly key: string;
}

export interface EdgeWorkerStatus {
  name: string;
  module: string;
  failure: 'fail' | 'bypass';
  timeout_ms: number;
  memory_mb: number;
  allow_net: string[];
  /** Where the host runs when this gateway did not start it (a sidecar). */
  endpoint: string | null;
  /** `inline`: in the gateway's own process, not isolated. */
  isolation: 'process' | 'inline';
  pid: number | null;
  restarts: number;
  inflight: number;
  breaker: BreakerState;
}

/**
 * The binary of the `deno` npm package, through the package's own installer
 * API: it returns the binary its postinstall placed, or places it now from
 * the platform package (when install scripts did not run).
 */
export function installedDeno(): string {
  const api = createRequire(import.meta.url)('deno/install_api.cjs') as { runInstall(): string };
  return api.runInstall();
}

/** The host program Deno runs (the entry imports it). */
export const EDGE_HOST_URL = new URL(`./host/deno-host${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export class EdgeWorkers {
  readonly #options: EdgeWorkersOptions;
  /** Resolved on first use: a gateway without edge workers needs no Deno. */
  #deno: string | undefined;
  readonly #dir: string;
  readonly #server: ServerType;
  readonly #bindingAddress: string;
  readonly #token: string;
  readonly #tokenDigest: Buffer;
  readonly #workers = new Map<string, EdgeWorker>();
  readonly #calls = new Map<string, BindingHandler>();
  #generation = 0;

  private constructor(options: EdgeWorkersOptions, dir: string, server: ServerType, port: number, token: string) {
    this.#options = options;
    this.#deno = options.deno;
    this.#dir = dir;
    this.#server = server;
    this.#bindingAddress = `127.0.0.1:${port}`;
    this.#token = token;
    this.#tokenDigest = digest(token);
  }

  /** Starts the model binding; workers start with `retain`. */
  static async open(options: EdgeWorkersOptions): Promise<EdgeWorkers> {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-'));
    const token = randomBytes(32).toString('base64url');
    const port = options.bindingPort || (await freeLoopbackPort());
    const handler: { bind?: BindingHandler } = {};
    // Node bindings as on the gateway's own port: the call's body and headers are read off the socket.
    const fetch = withNodeBindings((request, bindings) => (handler.bind as BindingHandler)(request, bindings));
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch, hostname: '127.0.0.1', port }, () => resolve(s));
    });
    const workers = new EdgeWorkers(options, dir, server, port, token);
    handler.bind = (request, bindings) => workers.#bind(request, bindings);
    return workers;
  }

  async #bind(request: Request, bindings: RuntimeBindings | undefined): Promise<Response> {
    const plain = bindings?.headers?.();
    const header = (name: string): string => {
      const value = plain ? plain[name] : request.headers.get(name);
      return (Array.isArray(value) ? value[0] : value) ?? '';
    };
    if (!timingSafeEqual(digest(header(EDGE_TOKEN_HEADER)), this.#tokenDigest)) return Response.json({ error: 'bad edge binding token' }, { status: 401 });
    const call = this.#calls.get(header(EDGE_CALL_HEADER));
    if (!call) return Response.json({ error: 'the model binding is only valid during the request it was given for' }, { status: 403 });
    return call(request, bindings);
  }

  /** Registers the pipeline that serves binding calls of one gateway request; returns the call id. */
  openCall(handler: BindingHandler): string {
    const id = randomUUID();
    this.#calls.set(id, handler);
    return id;
  }

  closeCall(id: string): void {
    this.#calls.delete(id);
  }

  get(name: string): EdgeWorker | undefined {
    return this.#workers.get(name);
  }

  status(): EdgeWorkerStatus[] {
    return [...this.#workers.values()].map(({ name, spec, process, breaker }) => ({
      name,
      module: spec.module,
      failure: spec.failure,
      timeout_ms: spec.timeout_ms,
      memory_mb: spec.memory_mb,
      allow_net: spec.allow_net,
      endpoint: spec.endpoint ?? null,
      isolation: spec.isolation,
      pid: process.pid ?? null,
      restarts: process.restarts,
      inflight: process.inflight,
      breaker: breaker.state,
    }));
  }

  /**
   * Runs exactly the workers `config` names: starts new and changed ones and
   * waits until they listen (a module that does not start throws, and the
   * caller keeps the old config), then retires the replaced ones after their
   * in-flight requests.
   */
  async retain(config: FleetConfig): Promise<void> {
    const wanted = new Map(Object.entries(config.edge_workers));
    const started: EdgeWorker[] = [];
    try {
      for (const [name, spec] of wanted) {
        // A host at an endpoint loaded its module itself: only its settings can change here.
        const key = spec.endpoint !== undefined ? JSON.stringify(spec) : `${JSON.stringify(spec)}:${digest(await readFile(spec.module, 'utf8')).toString('hex')}`;
        if (this.#workers.get(name)?.key === key) continue;
        started.push(await this.#start(name, spec, key));
      }
    } catch (error) {
      await Promise.all(started.map((w) => w.process.stop()));
      throw error;
    }
    const retired: EdgeWorker[] = [];
    for (const worker of started) {
      const old = this.#workers.get(worker.name);
      if (old) retired.push(old);
      this.#workers.set(worker.name, worker);
    }
    for (const [name, worker] of this.#workers) {
      if (wanted.has(name)) continue;
      this.#workers.delete(name);
      retired.push(worker);
    }
    for (const worker of started) this.#options.logger.info({ edge_worker: worker.name, module: worker.spec.module, pid: worker.process.pid }, 'edge worker started');
    await Promise.all(retired.map((w) => w.process.stop(DRAIN_MS)));
  }

  async #start(name: string, spec: EdgeWorkerConfig, key: string): Promise<EdgeWorker> {
    const { breaker, onBreakerChange } = this.#options;
    const process: EdgeHost = spec.endpoint !== undefined
      ? new EdgeEndpoint({ endpoint: spec.endpoint, token: this.#token })
      : spec.isolation === 'inline'
        ? new EdgeInline({ name, spec, bindingAddress: this.#bindingAddress, token: this.#token })
        : await this.#spawn(name, spec);
    try {
      await process.start();
    } catch (error) {
      // No supervised retries for a worker that never came up: the config is refused instead.
      await process.stop();
      throw error;
    }
    return {
      name, spec, process, key,
      breaker: new CircuitBreaker({ failures: breaker.failures, cooldownMs: breaker.cooldownMs, ...(onBreakerChange ? { onChange: (state) => onBreakerChange(name, state) } : {}) }),
    };
  }

  async #spawn(name: string, spec: EdgeWorkerConfig): Promise<EdgeProcess> {
    const { logger, onRestart, telemetry } = this.#options;
    const entry = join(this.#dir, `${name}-${++this.#generation}.ts`);
    const moduleUrl = pathToFileURL(spec.module).href;
    await writeFile(entry, edgeEntrySource(moduleUrl, EDGE_HOST_URL.href));
    return new EdgeProcess({
      name, spec, deno: (this.#deno ??= installedDeno()), entry, bindingAddress: this.#bindingAddress, token: this.#token, logger,
      ...(telemetry ? { telemetryEnv: edgeHostTelemetryEnv(edgeServiceName(name), telemetry) } : {}),
      ...(onRestart ? { onRestart: () => onRestart(name) } : {}),
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers.values()].map((w) => w.process.stop()));
    this.#workers.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Deno's fetch keeps binding connections alive; nothing is in flight once the workers are gone.
    if ('closeAllConnections' in this.#server) this.#server.closeAllConnections();
    await closed;
    await rm(this.#dir, { recursive: true, force: true });
  }
}

