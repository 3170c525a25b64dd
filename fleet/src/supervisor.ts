/**
 * Keeps a service process running: when it exits unexpectedly it is
 * restarted with exponential backoff (1 s doubling to 30 s; the delay
 * resets after a minute of uptime), and each restart is reported.
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

export class Supervisor {
  readonly #options: SupervisorOptions;
  #process: ServiceProcess | undefined;
  #stopping = false;
  #delayMs: number;
  #restarts = 0;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#delayMs = options.initialDelayMs ?? 1000;
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

  #watch(service: ServiceProcess): void {
    this.#process = service;
    const startedAt = Date.now();
    void service.exited.then(async (code) => {
      if (this.#stopping) return;
      const { name, report, initialDelayMs = 1000, maxDelayMs = 30_000 } = this.#options;
      if (Date.now() - startedAt > 60_000) this.#delayMs = initialDelayMs;
      report(`${name} exited unexpectedly (code ${code}); restarting in ${this.#delayMs} ms`);
      await this.#restartAfter(this.#delayMs);
      this.#delayMs = Math.min(this.#delayMs * 2, maxDelayMs);
    });
  }

  async #restartAfter(delayMs: number): Promise<void> {
    await new Promise((r) => setTimeout(r, delayMs));
    if (this.#stopping) return;
    try {
      const service = await this.#options.start();
      this.#restarts++;
      this.#options.report(`${this.#options.name} restarted (${service.url})`);
      this.#watch(service);
    } catch (error) {
      this.#options.report(`${this.#options.name} failed to restart: ${(error as Error).message.split('\n')[0]}`);
      await this.#restartAfter(Math.min(delayMs * 2, this.#options.maxDelayMs ?? 30_000));
    }
  }

  async stop(): Promise<number | null | undefined> {
    this.#stopping = true;
    return this.#process?.stop();
  }
}
