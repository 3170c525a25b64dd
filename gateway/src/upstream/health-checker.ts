/**
 * Polls every upstream's `/v2/health/ready` on an interval and records the
 * result on the upstream, so routing skips workers that are down before a
 * request has to fail on them.
 */
import type { Upstream } from './upstream-pool.ts';

export interface HealthCheckerOptions {
  upstreams: () => Upstream[];
  intervalMs: number;
  /** Default 1000 ms. */
  timeoutMs?: number;
  /**
   * @deprecated Changes are reported once, active or passive, by the
   * registry's `onHealthChange` (`UpstreamSettings`); this one sees only the
   * checker's own. Still called when set.
   */
  onChange?: (url: string, healthy: boolean) => void;
}

export class HealthChecker {
  readonly #options: HealthCheckerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: HealthCheckerOptions) {
    this.#options = options;
  }

  /** Checks everything once now, then on every interval. */
  async start(): Promise<void> {
    await this.checkAll();
    this.#timer = setInterval(() => void this.checkAll(), this.#options.intervalMs);
    this.#timer.unref();
  }

  checkAll(): Promise<void> {
    this.#running ??= Promise.all(this.#options.upstreams().map((u) => this.#check(u))).then(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(upstream: Upstream): Promise<void> {
    let healthy = false;
    let reason: string;
    try {
      const { statusCode, body } = await upstream.pool.request({
        path: '/v2/health/ready',
        method: 'GET',
        headersTimeout: this.#options.timeoutMs ?? 1000,
        bodyTimeout: this.#options.timeoutMs ?? 1000,
      });
      await body.dump();
      healthy = statusCode === 200;
      reason = `readiness status ${statusCode}`;
    } catch (error) {
      healthy = false;
      reason = (error as { code?: string }).code ?? (error as Error).message;
    }
    if (upstream.healthy !== healthy) this.#options.onChange?.(upstream.url, healthy);
    upstream.setHealth(healthy, 'health_check', reason);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
