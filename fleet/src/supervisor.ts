/**
 * Keeps a service process running: when it exits on its own it is restarted
 * with exponential backoff (1 s doubling to 30 s; the delay resets after a
 * minute of uptime), and each restart is reported. Exits during a stop are
 * reported as graceful, never as crashes.
 */
import type { ServiceProcess } from './service-process.ts';

export interface SupervisorOptions {
  name: string;
  start: () => Promise<ServiceProcess>;
  report: (message: string) => void;
  /** Default 1000 ms. */
  initialDelayMs?: number;
  /** Default 30000 ms. */
  maxDelayMs?: number;
}

/** How a process ended, for a person: `code 1`, `signal SIGKILL`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

export class Supervisor {
  readonly #options: SupervisorOptions;
  #process: ServiceProcess | undefined;
  #stopping = false;
  #delayMs: number;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#delayMs = options.initialDelayMs ?? 1000;
  }

  get name(): string {
    return this.#options.name;
  }

  get process(): ServiceProcess | undefined {
    return this.#process;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** First start: failures are thrown to the caller. */
  async start(): Promise<ServiceProcess> {
    const started = await this.#options.start();
    this.#watch(started);
    return started;
  }

  /** From now on exits are expected (the whole fleet is stopping): no restarts, no crash reports. */
  markStopping(): void {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
  }

  #watch(service: ServiceProcess): void {
    this.#process = service;
    const startedAt = Date.now();
    void service.ended.then(async ({ code, signal }) => {
      const { name, report, initialDelayMs = 1000, maxDelayMs = 30_000 } = this.#options;
      if (this.#stopping) {
        report(`${name} stopped (${describeExit(code, signal)})`);
        return;
      }
      if (Date.now() - startedAt > 60_000) this.#delayMs = initialDelayMs;
      report(`${name} exited unexpectedly (${describeExit(code, signal)}); restarting in ${this.#delayMs} ms`);
      await this.#restartAfter(this.#delayMs);
      this.#delayMs = Math.min(this.#delayMs * 2, maxDelayMs);
    });
  }

  async #restartAfter(delayMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#restartTimer = setTimeout(resolve, delayMs);
    });
    if (this.#stopping) return;
    try {
      const service = await this.#options.start();
      if (this.#stopping) {
        await service.stop();
        return;
      }
      this.#restarts++;
      this.#options.report(`${this.#options.name} restarted (${service.url})`);
      this.#watch(service);
    } catch (error) {
      this.#options.report(`${this.#options.name} failed to restart: ${(error as Error).message.split('\n')[0]}`);
      await this.#restartAfter(Math.min(delayMs * 2, this.#options.maxDelayMs ?? 30_000));
    }
  }

  /** Stops the process gracefully (SIGTERM, drain) and resolves with its exit code. */
  async stop(): Promise<number | null | undefined> {
    this.markStopping();
    return this.#process?.stop();
  }
}
