/**
 * What the gateway needs from the host of one edge worker, whether it
 * started the Deno process itself (`EdgeProcess`) or calls one that runs
 * beside it (`EdgeEndpoint`, a pod's sidecar): dispatch a request within a
 * time limit, report its failures as one error type, and stop after its
 * in-flight requests.
 */
import type { Dispatcher } from 'undici';

/** Why a dispatch failed: the module took too long, or the process was gone or died under it. */
export class EdgeFailure extends Error {
  override name = 'EdgeFailure';
  constructor(
    readonly kind: 'timeout' | 'crash' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface EdgeResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export interface EdgeHost {
  /** The Deno process's id, when this gateway started it. */
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly inflight: number;
  /** Resolves once the host can take requests; rejects if it does not come up. */
  start(): Promise<void>;
  dispatch(request: Dispatcher.RequestOptions, timeoutMs: number): Promise<EdgeResponse>;
  /** Waits for in-flight requests (at most `graceMs`), then lets the host go. */
  stop(graceMs?: number): Promise<void>;
}

/** Counts requests in flight and lets a stop wait (bounded) until none is left. */
export class InflightRequests {
  #count = 0;
  #idle: (() => void) | undefined;

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    if (--this.#count === 0) this.#idle?.();
  }

  /** Resolves when nothing is in flight, or after `graceMs`. */
  async drained(graceMs: number): Promise<void> {
    if (this.#count === 0 || graceMs <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
