/**
 * An inline edge worker: the module imported into the gateway's own
 * process, for trusted code and unit tests. NOT isolated: the module has
 * every permission the gateway has, no memory limit, and a busy loop stalls
 * the whole gateway (the timeout only stops waiting for an answer; nothing
 * can be killed). It sees the same request, `env` and `ctx` as a module in
 * a Deno host, through the same request handler, and its `env.MODEL` calls
 * go through the same model binding. Node imports TypeScript modules only
 * where a TypeScript loader is registered (`npm start`, vitest); elsewhere
 * name a JavaScript module.
 */
import { pathToFileURL } from 'node:url';
import type { EdgeHostSettings } from '@switchyard/fleet-config/edge-host';
import type { EdgeWorkerConfig } from '@switchyard/fleet-config/schema';
import type { Dispatcher } from 'undici';
import type { EdgeWorker as EdgeModule } from './contract.ts';
import { EdgeFailure, InflightRequests, type EdgeHost, type EdgeResponse } from './edge-host.ts';
import { handleEdgeRequest } from './host/deno-host.ts';

export interface EdgeInlineOptions {
  name: string;
  spec: EdgeWorkerConfig;
  /** `host:port` of the gateway's model binding. */
  bindingAddress: string;
  token: string;
}

export class EdgeInline implements EdgeHost {
  readonly pid = undefined;
  readonly restarts = 0;
  readonly #options: EdgeInlineOptions;
  readonly #settings: EdgeHostSettings;
  readonly #inflight = new InflightRequests();
  #module: EdgeModule | undefined;

  constructor(options: EdgeInlineOptions) {
    this.#options = options;
    this.#settings = { port: 0, binding: `http://${options.bindingAddress}`, token: options.token, vars: options.spec.vars };
  }

  get inflight(): number {
    return this.#inflight.count;
  }

  /** Imports the module (a fresh copy per start, so a reload picks up a changed file). */
  async start(): Promise<void> {
    const { name, spec } = this.#options;
    const url = `${pathToFileURL(spec.module).href}?switchyard-inline=${Date.now()}`;
    let imported: { default?: Partial<EdgeModule> };
    try {
      imported = (await import(url)) as { default?: Partial<EdgeModule> };
    } catch (error) {
      throw new Error(`edge worker '${name}' (inline) could not be imported: ${(error as Error).message}`, { cause: error });
    }
    if (typeof imported.default?.fetch !== 'function') throw new Error(`edge worker '${name}' (inline): ${spec.module} has no default export with fetch(request, env, ctx)`);
    this.#module = imported.default as EdgeModule;
  }

  async dispatch(request: Dispatcher.RequestOptions, timeoutMs: number): Promise<EdgeResponse> {
    const module = this.#module;
    if (!module) throw new EdgeFailure('unavailable', 'is not running');
    this.#inflight.enter();
    let timer: NodeJS.Timeout | undefined;
    try {
      const body = request.body as Uint8Array<ArrayBuffer> | null | undefined;
      const incoming = new Request(`http://127.0.0.1${request.path}`, { method: request.method, headers: request.headers as Record<string, string>, ...(body ? { body } : {}) });
      const overrun = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EdgeFailure('timeout', `did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      const response = await Promise.race([handleEdgeRequest(module, this.#settings, incoming), overrun]);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
    } finally {
      clearTimeout(timer);
      this.#inflight.leave();
    }
  }

  async stop(graceMs = 0): Promise<void> {
    await this.#inflight.drained(graceMs);
    this.#module = undefined;
  }
}
