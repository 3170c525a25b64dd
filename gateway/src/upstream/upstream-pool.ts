/**
 * Upstream workers: one pooled keep-alive undici client per base URL, with
 * its circuit breaker and its health. Health changes, whether the health
 * checker saw them (active) or the proxy did (passive), all go through
 * `Upstream.setHealth`, which reports each change once.
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
  /** Called on every change of an upstream's health, active or passive (see `reportUpstreamHealth`). */
  onHealthChange?: (change: HealthChange) => void;
}

/** Who noticed: the periodic health check, or the proxy failing to reach the replica. */
export type HealthSource = 'health_check' | 'proxy';

export interface HealthChange {
  url: string;
  healthy: boolean;
  source: HealthSource;
  /** Why, e.g. `ECONNREFUSED` or `status 503`. */
  reason?: string;
}

export class Upstream {
  readonly url: string;
  readonly pool: Pool;
  readonly breaker: CircuitBreaker;
  readonly #onHealthChange: ((change: HealthChange) => void) | undefined;
  #healthy: boolean | undefined;

  constructor(url: string, settings: UpstreamSettings) {
    this.url = url;
    this.#onHealthChange = settings.onHealthChange;
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

  /** Last known health; unknown (undefined) until the first check or failure. */
  get healthy(): boolean | undefined {
    return this.#healthy;
  }

  /** Records the upstream's health; a change is reported (metric and log) through `onHealthChange`. */
  setHealth(healthy: boolean, source: HealthSource, reason?: string): void {
    if (this.#healthy === healthy) return;
    this.#healthy = healthy;
    this.#onHealthChange?.({ url: this.url, healthy, source, ...(reason !== undefined ? { reason } : {}) });
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
