/**
 * An edge worker whose Deno host someone else started and supervises (in a
 * cluster: a sidecar of the gateway pod, on loopback, restarted by the
 * kubelet when its probes fail). The gateway only calls it: each request
 * carries the model binding's token, since the host's settings live in its
 * pod spec where a secret does not belong. A request that overruns its time
 * is reported as a timeout; the host's liveness probe, not the gateway,
 * restarts a host that spins.
 */
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { EDGE_TOKEN_HEADER } from './contract.ts';
import { EdgeFailure, InflightRequests, type EdgeHost, type EdgeResponse } from './edge-host.ts';

export interface EdgeEndpointOptions {
  /** `host:port` of the running host. */
  endpoint: string;
  /** The model binding's token, sent with each request. */
  token: string;
}

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export class EdgeEndpoint implements EdgeHost {
  readonly pid = undefined;
  readonly restarts = 0;
  readonly #pool: Pool;
  readonly #token: string;
  readonly #inflight = new InflightRequests();
  #stopped = false;

  constructor({ endpoint, token }: EdgeEndpointOptions) {
    this.#pool = new Pool(`http://${endpoint}`, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
    this.#token = token;
  }

  get inflight(): number {
    return this.#inflight.count;
  }

  /** The host comes up on its own (a sidecar may start after the gateway); requests until then fail as unavailable. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  async dispatch(request: Dispatcher.RequestOptions, timeoutMs: number): Promise<EdgeResponse> {
    if (this.#stopped) throw new EdgeFailure('unavailable', 'is not running');
    this.#inflight.enter();
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const headers = { ...(request.headers as Record<string, string>), [EDGE_TOKEN_HEADER]: this.#token };
      const res = await this.#pool.request({ ...request, headers, signal });
      return { status: res.statusCode, headers: res.headers, body: new Uint8Array(await res.body.arrayBuffer()) };
    } catch (error) {
      if (signal.aborted) throw new EdgeFailure('timeout', `did not answer within ${timeoutMs} ms`);
      const code = (error as { code?: string }).code ?? (error as Error).message;
      if (REFUSED.has(code)) throw new EdgeFailure('unavailable', `is not reachable (${code})`);
      throw new EdgeFailure('crash', `failed mid-request (${code})`);
    } finally {
      this.#inflight.leave();
    }
  }

  async stop(graceMs = 0): Promise<void> {
    this.#stopped = true;
    await this.#inflight.drained(graceMs);
    await this.#pool.close();
  }
}
