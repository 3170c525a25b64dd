/**
 * The dynamic batcher (Triton semantics): queued requests with compatible
 * shapes are merged along dim 0 into one run, up to `maxBatchSize` rows,
 * waiting at most `maxQueueDelayMicros` for the oldest request. The queue
 * is bounded; beyond it requests are refused with 429. With batching off
 * (`maxBatchSize` 0) every request runs alone, through the same queue.
 */
import { context, SpanStatusCode, trace, type Context, type Link, type Tracer } from '@opentelemetry/api';
import { DATATYPE_INFO } from '../protocol/datatypes.ts';
import type { InferRequest } from '../protocol/infer-request.ts';
import { ServiceError } from '../http/service-error.ts';
import { concatRows, sliceRows, type ShapedData } from './tensor-batch.ts';

/** Runs one batch: input name → tensor, returns output name → tensor. */
export type BatchExecutor = (inputs: ReadonlyMap<string, ShapedData & { datatype: keyof typeof DATATYPE_INFO }>) => Promise<Map<string, ShapedData>>;

export interface BatchObserver {
  /** Called once with the batcher's bounds (for saturation metrics). */
  configured?(limits: { maxQueueSize: number; maxBatchSize: number }): void;
  queueWait(seconds: number): void;
  batchExecuted(rows: number, requests: number, seconds: number): void;
  /** The batch's phases: joining inputs, `session.run`, splitting outputs. */
  batchPhases?(rows: number, requests: number, phases: { inputSeconds: number; inferSeconds: number; outputSeconds: number }): void;
}

export interface DynamicBatcherOptions {
  /** 0 = no batching. */
  maxBatchSize: number;
  maxQueueDelayMicros: number;
  maxQueueSize: number;
  /** Batches that may run at once. Default 1. */
  instanceCount?: number;
  execute: BatchExecutor;
  tracer: Tracer;
  /** Attributes for the `session.run` span, e.g. model, version, provider. */
  spanAttributes: Record<string, string | number>;
  observer?: BatchObserver;
}

export type RequestOutputs = Map<string, ShapedData>;

interface Pending {
  request: InferRequest;
  rows: number;
  key: string;
  enqueuedAt: number;
  context: Context;
  resolve(outputs: RequestOutputs): void;
  reject(error: unknown): void;
}

function compatibilityKey(request: InferRequest): string {
  let key = '';
  for (const input of request.inputs) {
    for (let d = 1; d < input.shape.length; d++) key += `${input.shape[d]},`;
    key += '|';
  }
  return key;
}

export class DynamicBatcher {
  readonly #options: Required<Omit<DynamicBatcherOptions, 'observer'>> & { observer?: BatchObserver };
  readonly #queue: Pending[] = [];
  #inflight = 0;
  #timer: NodeJS.Timeout | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(options: DynamicBatcherOptions) {
    this.#options = { instanceCount: 1, ...options };
    options.observer?.configured?.({ maxQueueSize: options.maxQueueSize, maxBatchSize: options.maxBatchSize });
  }

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.#queue.length;
  }

  /** Queues a validated request; resolves with its share of the outputs. */
  submit(request: InferRequest): Promise<RequestOutputs> {
    const { maxQueueSize } = this.#options;
    if (this.#queue.length >= maxQueueSize) {
      return Promise.reject(new ServiceError(429, `queue is full (${maxQueueSize} requests waiting); retry later`, { 'Retry-After': '1' }));
    }
    return new Promise<RequestOutputs>((resolve, reject) => {
      this.#queue.push({
        request,
        rows: this.#options.maxBatchSize > 0 ? request.batchSize : 1,
        key: this.#options.maxBatchSize > 0 ? compatibilityKey(request) : '',
        enqueuedAt: performance.now(),
        context: context.active(),
        resolve,
        reject,
      });
      this.#schedule();
    });
  }

  /** Resolves once the queue is empty and no batch is running. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    const { maxBatchSize, maxQueueDelayMicros, instanceCount } = this.#options;
    while (this.#inflight < instanceCount && this.#queue.length > 0) {
      if (maxBatchSize === 0) {
        this.#dispatch(this.#queue.splice(0, 1));
        continue;
      }
      const head = this.#queue[0] as Pending;
      const picked: number[] = [];
      let rows = 0;
      for (let i = 0; i < this.#queue.length && rows < maxBatchSize; i++) {
        const entry = this.#queue[i] as Pending;
        if (entry.key !== head.key) continue;
        if (rows + entry.rows > maxBatchSize) break;
        picked.push(i);
        rows += entry.rows;
      }
      const waitedMicros = (performance.now() - head.enqueuedAt) * 1000;
      if (rows < maxBatchSize && waitedMicros < maxQueueDelayMicros) {
        this.#arm((maxQueueDelayMicros - waitedMicros) / 1000);
        return;
      }
      const batch: Pending[] = [];
      for (let k = picked.length - 1; k >= 0; k--) batch.push(...this.#queue.splice(picked[k] as number, 1));
      batch.reverse();
      this.#dispatch(batch);
    }
  }

  #arm(delayMs: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, delayMs);
  }

  #dispatch(batch: Pending[]): void {
    if (this.#timer && this.#queue.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#inflight++;
    void this.#run(batch).finally(() => {
      this.#inflight--;
      this.#schedule();
      if (this.#queue.length === 0 && this.#inflight === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    });
  }

  async #run(batch: Pending[]): Promise<void> {
    const { tracer, observer, execute, spanAttributes } = this.#options;
    const started = performance.now();
    const links: Link[] = [];
    for (const entry of batch) {
      observer?.queueWait((started - entry.enqueuedAt) / 1000);
      const parent = trace.getSpan(entry.context);
      if (parent) links.push({ context: parent.spanContext() });
    }
    const first = batch[0] as Pending;
    const rows = batch.reduce((sum, entry) => sum + entry.rows, 0);
    // One session.run serves the whole batch: it lives in the first request's trace and links to every request.
    const span = tracer.startSpan(
      'session.run',
      { links, attributes: { ...spanAttributes, 'switchyard.batch_size': rows, 'switchyard.batch_requests': batch.length } },
      first.context,
    );
    // Each request's own trace shows its inference (queue wait, then its share of the run), linked to the shared run.
    const runLink: Link = { context: span.spanContext() };
    const perRequest = batch.map((entry) => {
      const inference = tracer.startSpan(
        'inference',
        { startTime: performance.timeOrigin + entry.enqueuedAt, links: [runLink], attributes: { ...spanAttributes, 'switchyard.batch_size': rows, 'switchyard.request_rows': entry.rows } },
        entry.context,
      );
      tracer.startSpan('queue wait', { startTime: performance.timeOrigin + entry.enqueuedAt }, trace.setSpan(entry.context, inference)).end(performance.timeOrigin + started);
      return inference;
    });
    try {
      const inputs = new Map<string, ShapedData & { datatype: keyof typeof DATATYPE_INFO }>();
      first.request.inputs.forEach((input, index) => {
        const parts = batch.map((entry) => entry.request.inputs[index] as ShapedData);
        const info = DATATYPE_INFO[input.datatype];
        inputs.set(input.name, { ...concatRows(parts, (size) => info.allocate(size)), datatype: input.datatype });
      });
      const inferStarted = performance.now();
      const outputs = await context.with(trace.setSpan(first.context, span), () => execute(inputs));
      const inferEnded = performance.now();
      observer?.batchExecuted(rows, batch.length, (inferEnded - started) / 1000);
      let offset = 0;
      for (const entry of batch) {
        const mine: RequestOutputs = new Map();
        for (const name of entry.request.outputs) {
          const output = outputs.get(name);
          if (output) mine.set(name, this.#options.maxBatchSize > 0 ? sliceRows(output, offset, entry.rows) : output);
        }
        offset += entry.rows;
        entry.resolve(mine);
      }
      observer?.batchPhases?.(rows, batch.length, {
        inputSeconds: (inferStarted - started) / 1000,
        inferSeconds: (inferEnded - inferStarted) / 1000,
        outputSeconds: (performance.now() - inferEnded) / 1000,
      });
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      for (const inference of perRequest) inference.setStatus({ code: SpanStatusCode.ERROR });
      const failure = new ServiceError(500, `inference failed: ${error instanceof Error ? error.message : String(error)}`);
      for (const entry of batch) entry.reject(failure);
    } finally {
      span.end();
      for (const inference of perRequest) inference.end();
    }
  }
}
