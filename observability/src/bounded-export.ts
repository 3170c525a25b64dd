/**
 * Span export that can never slow or grow without bound: a batch processor
 * behind a hard cap on spans waiting or in flight. Spans over the cap are
 * dropped, and drops and failed exports are counted for `/metrics`.
 *
 * Only spans the batch processor will actually export are counted as
 * pending: sampled spans that end before shutdown. Each exported batch
 * leaves `pending` exactly once: when the exporter answers, throws, or
 * outlives the export timeout (the batch processor has given up on it by
 * then), so neither unsampled spans nor a hung exporter can fill the cap
 * for good.
 */
import { TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface SpanCounts {
  /** Dropped because the export queue was full, or ended after shutdown. */
  dropped: number;
  /** Lost because the exporter failed, threw or timed out (e.g. collector unreachable). */
  failed: number;
}

export interface BoundedSpanProcessorOptions {
  /** Spans waiting or in flight at most. Default 2048. */
  maxPending?: number;
  /** How long one export may take before its spans count as failed. Default 30 000 ms (the batch processor's). */
  exportTimeoutMs?: number;
}

interface State {
  pending: number;
  counts: SpanCounts;
}

class CountingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #state: State;
  readonly #timeoutMs: number;

  constructor(inner: SpanExporter, state: State, timeoutMs: number) {
    this.#inner = inner;
    this.#state = state;
    this.#timeoutMs = timeoutMs;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let settled = false;
    const settle = (result: ExportResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#state.pending -= spans.length;
      if (result.code !== ExportResultCode.SUCCESS) this.#state.counts.failed += spans.length;
      resultCallback(result);
    };
    const timer = setTimeout(() => settle({ code: ExportResultCode.FAILED, error: new Error(`span export took over ${this.#timeoutMs} ms`) }), this.#timeoutMs);
    timer.unref();
    try {
      this.#inner.export(spans, settle);
    } catch (error) {
      settle({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

export class BoundedSpanProcessor implements SpanProcessor {
  readonly #batch: BatchSpanProcessor;
  readonly #state: State = { pending: 0, counts: { dropped: 0, failed: 0 } };
  readonly #maxPending: number;
  #shutDown = false;

  constructor(exporter: SpanExporter, { maxPending = 2048, exportTimeoutMs = 30_000 }: BoundedSpanProcessorOptions = {}) {
    this.#maxPending = maxPending;
    this.#batch = new BatchSpanProcessor(new CountingExporter(exporter, this.#state, exportTimeoutMs), { maxQueueSize: maxPending, exportTimeoutMillis: exportTimeoutMs });
  }

  get counts(): SpanCounts {
    return { ...this.#state.counts };
  }

  /** Spans waiting or in flight now. */
  get pending(): number {
    return this.#state.pending;
  }

  onStart(span: Span, parentContext: Context): void {
    this.#batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // Recorded but not sampled: the batch processor never exports it.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.#shutDown || this.#state.pending >= this.#maxPending) {
      this.#state.counts.dropped++;
      return;
    }
    this.#state.pending++;
    this.#batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#batch.forceFlush();
  }

  shutdown(): Promise<void> {
    this.#shutDown = true;
    return this.#batch.shutdown();
  }
}
