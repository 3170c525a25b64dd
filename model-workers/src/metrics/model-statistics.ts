/**
 * Per-version inference statistics in the shape of Triton's statistics
 * extension (`GET /v2/models/{m}/stats`): request success and failure
 * counts with cumulative durations, queue time, and the input, inference
 * and output phases of each batch, all in nanoseconds; inference count
 * (rows) and execution count (batches). Lives with the loaded model, so it
 * restarts with the worker.
 */
export interface DurationStat {
  count: number;
  ns: number;
}

const zero = (): DurationStat => ({ count: 0, ns: 0 });
const add = (stat: DurationStat, seconds: number, count = 1): void => {
  stat.count += count;
  stat.ns += Math.round(seconds * 1e9) * count;
};

export interface BatchPhases {
  inputSeconds: number;
  inferSeconds: number;
  outputSeconds: number;
}

interface BatchStat {
  compute_input: DurationStat;
  compute_infer: DurationStat;
  compute_output: DurationStat;
}

export class ModelStatistics {
  readonly #now: () => number;
  #success = zero();
  #fail = zero();
  #queue = zero();
  #computeInput = zero();
  #computeInfer = zero();
  #computeOutput = zero();
  #inferenceCount = 0;
  #executionCount = 0;
  #lastInference = 0;
  readonly #batches = new Map<number, BatchStat>();

  /** `now`: wall clock in ms since the epoch, for `last_inference`. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  requestSucceeded(seconds: number): void {
    add(this.#success, seconds);
  }

  requestFailed(seconds: number): void {
    add(this.#fail, seconds);
  }

  queued(seconds: number): void {
    add(this.#queue, seconds);
  }

  /** One batch of `rows` rows from `requests` requests; each request is charged the batch's phase times, as Triton does. */
  executed(rows: number, requests: number, phases: BatchPhases): void {
    this.#inferenceCount += rows;
    this.#executionCount += 1;
    this.#lastInference = this.#now();
    add(this.#computeInput, phases.inputSeconds, requests);
    add(this.#computeInfer, phases.inferSeconds, requests);
    add(this.#computeOutput, phases.outputSeconds, requests);
    let batch = this.#batches.get(rows);
    if (!batch) this.#batches.set(rows, (batch = { compute_input: zero(), compute_infer: zero(), compute_output: zero() }));
    add(batch.compute_input, phases.inputSeconds);
    add(batch.compute_infer, phases.inferSeconds);
    add(batch.compute_output, phases.outputSeconds);
  }

  /** One `model_stats` entry. */
  toJSON(name: string, version: string): Record<string, unknown> {
    return {
      name,
      version,
      last_inference: this.#lastInference,
      inference_count: this.#inferenceCount,
      execution_count: this.#executionCount,
      inference_stats: {
        success: { ...this.#success },
        fail: { ...this.#fail },
        queue: { ...this.#queue },
        compute_input: { ...this.#computeInput },
        compute_infer: { ...this.#computeInfer },
        compute_output: { ...this.#computeOutput },
        // Switchyard has no response cache: never a hit, never a lookup.
        cache_hit: zero(),
        cache_miss: zero(),
      },
      // One response per request (no decoupled models); no memory profiling at load.
      response_stats: {},
      memory_usage: [],
      batch_stats: [...this.#batches.entries()].sort(([a], [b]) => a - b).map(([size, s]) => ({
        batch_size: size,
        compute_input: { ...s.compute_input },
        compute_infer: { ...s.compute_infer },
        compute_output: { ...s.compute_output },
      })),
    };
  }
}
