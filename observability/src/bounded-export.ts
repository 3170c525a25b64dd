/**
 * Span export that can never slow or grow without bound: a batch processor
 * behind a hard cap on spans waiting or in flight. Spans over the cap are
 * dropped, and drops and failed exports are counted for `/metrics`.
 */
import type { Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface SpanCounts {
  /** Dropped because the export queue was full. */
  dropped: number;
  /** Lost because the exporter failed (e.g. collector unreachable). */
  failed: number;
}

class CountingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #state: { pending: number; counts: SpanCounts };

  constructor(inner: SpanExporter, state: { pending: number; counts: SpanCounts }) {
    this.#inner = inner;
    this.#state = state;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      this.#state.pending -= spans.length;
      if (result.code !== ExportResultCode.SUCCESS) this.#state.counts.failed += spans.length;
      resultCallback(result);
    });
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
  readonly #state = { pending: 0, counts: { dropped: 0, failed: 0 } };
  readonly #maxPending: number;

  constructor(exporter: SpanExporter, maxPending = 2048) {
    this.#maxPending = maxPending;
    this.#batch = new BatchSpanProcessor(new CountingExporter(exporter, this.#state), { maxQueueSize: maxPending });
  }

  get counts(): SpanCounts {
    return { ...this.#state.counts };
  }

  onStart(span: Span, parentContext: Context): void {
    this.#batch.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    if (this.#state.pending >= this.#maxPending) {
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
    return this.#batch.shutdown();
  }
}
