/**
 * Upstream workers: one pooled keep-alive undici client per base URL, with
 * its circuit breaker and the health last seen by the health checker.
 */
import { Pool } from 'undici';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';

export interface UpstreamSettings {
  connectTimeoutMs: number;
  breakerFailures: number;
  breakerCooldownMs: number;
  /** Keep-alive connections per upstream. Default 64. */
  connections?: number;
  onBreakerChange?: (url: string, state: BreakerState) => void;
}

export class Upstream {
  readonly url: string;
  readonly pool: Pool;
  readonly breaker: CircuitBreaker;
  /** Result of the last health check; unknown (undefined) until the first. */
  healthy: boolean | undefined;

  constructor(url: string, settings: UpstreamSettings) {
    this.url = url;
    this.pool = new Pool(url, {
      connections: settings.connections ?? 64,
      connect: { timeout: settings.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      pipelining: 1,
    });
    this.breaker = new CircuitBreaker({
      failures: settings.breakerFailures,
      cooldownMs: settings.breakerCooldownMs,
      onChange: (state) => settings.onBreakerChange?.(url, state),
    });
  }

  /** Worth trying: not known unhealthy and the breaker lets it through. */
  available(): boolean {
    return this.healthy !== false && this.breaker.allow();
  }
}

/** Upstreams by URL, kept across config reloads so pools and breakers survive. */
export class UpstreamRegistry {
  readonly #upstreams = new Map<string, Upstream>();
  #settings: UpstreamSettings;

  constructor(settings: UpstreamSettings) {
    this.#settings = settings;
  }

  get(url: string): Upstream {
    let upstream = this.#upstreams.get(url);
    if (!upstream) {
      upstream = new Upstream(url, this.#settings);
      this.#upstreams.set(url, upstream);
      // Report the initial (closed) state so every upstream has a breaker series from the start.
      this.#settings.onBreakerChange?.(url, upstream.breaker.state);
    }
    return upstream;
  }

  all(): Upstream[] {
    return [...this.#upstreams.values()];
  }

  /** Drops upstreams no longer referenced (after a reload), closing their pools. */
  async retain(urls: ReadonlySet<string>): Promise<void> {
    const gone = [...this.#upstreams.values()].filter((u) => !urls.has(u.url));
    for (const u of gone) this.#upstreams.delete(u.url);
    await Promise.all(gone.map((u) => u.pool.close()));
  }

  async close(): Promise<void> {
    const all = this.all();
    this.#upstreams.clear();
    await Promise.all(all.map((u) => u.pool.close()));
  }
}
