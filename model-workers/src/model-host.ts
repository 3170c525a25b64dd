/**
 * The lifecycle of the model a worker serves: loading → ready → draining.
 * Readiness is reported only once every version is loaded and warmed up.
 */
import type { LoadedModel } from './repository/load-model.ts';

export type WorkerPhase = 'loading' | 'ready' | 'draining';

export class ModelHost {
  readonly modelName: string;
  #phase: WorkerPhase = 'loading';
  #model: LoadedModel | undefined;
  #inflight = 0;
  #drained: Array<() => void> = [];

  constructor(modelName: string) {
    this.modelName = modelName;
  }

  get phase(): WorkerPhase {
    return this.#phase;
  }

  get model(): LoadedModel | undefined {
    return this.#model;
  }

  /** Starts serving `model`; ignored once draining. */
  ready(model: LoadedModel): void {
    this.#model = model;
    if (this.#phase === 'loading') this.#phase = 'ready';
  }

  /** Counts a request in flight until the returned function is called. */
  track(): () => void {
    this.#inflight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#inflight--;
      if (this.#inflight === 0 && this.#phase === 'draining') for (const wake of this.#drained.splice(0)) wake();
    };
  }

  /** Stops reporting ready, waits for in-flight requests, then closes the model. */
  async drain(): Promise<void> {
    this.#phase = 'draining';
    if (this.#inflight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
    await this.#model?.close();
  }
}
