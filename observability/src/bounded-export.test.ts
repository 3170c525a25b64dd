import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { BasicTracerProvider, SamplingDecision, type ReadableSpan, type Sampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it, vi } from 'vitest';
import { BoundedSpanProcessor } from './bounded-export.ts';

/** An exporter the test answers by hand; `mode` says how it behaves. */
class ManualExporter implements SpanExporter {
  readonly batches: Array<{ spans: ReadableSpan[]; done: (result: ExportResult) => void }> = [];
  constructor(private readonly mode: 'manual' | 'ok' | 'fail' | 'throw' = 'ok') {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.mode === 'throw') throw new Error('exporter exploded');
    this.batches.push({ spans, done });
    if (this.mode === 'ok') done({ code: ExportResultCode.SUCCESS });
    if (this.mode === 'fail') done({ code: ExportResultCode.FAILED, error: new Error('collector unreachable') });
  }
  exported(): number {
    return this.batches.reduce((n, b) => n + b.spans.length, 0);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const recordOnly: Sampler = { shouldSample: () => ({ decision: SamplingDecision.RECORD }), toString: () => 'record-only' };

function tracer(processor: BoundedSpanProcessor, sampler?: Sampler) {
  return new BasicTracerProvider({ spanProcessors: [processor], ...(sampler ? { sampler } : {}) }).getTracer('test');
}

function endSpans(t: ReturnType<typeof tracer>, n: number): void {
  for (let i = 0; i < n; i++) t.startSpan(`span ${i}`).end();
}

async function until(check: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    if (!check()) throw new Error('condition not met');
  }, { timeout: 4000, interval: 10 });
}

describe('BoundedSpanProcessor', () => {
  it('exports sampled spans and counts them pending until the exporter answers', async () => {
    const exporter = new ManualExporter('manual');
    const processor = new BoundedSpanProcessor(exporter, { maxPending: 10 });
    endSpans(tracer(processor), 3);
    expect(processor.pending).toBe(3);
    const flushed = processor.forceFlush();
    await until(() => exporter.batches.length === 1);
    expect(processor.pending).toBe(3);
    exporter.batches[0]?.done({ code: ExportResultCode.SUCCESS });
    await flushed;
    expect(processor.pending).toBe(0);
    expect(processor.counts).toEqual({ dropped: 0, failed: 0 });
  });

  it('never counts unsampled (record-only) spans as pending, so they cannot fill the cap', async () => {
    const exporter = new ManualExporter('ok');
    const processor = new BoundedSpanProcessor(exporter, { maxPending: 2 });
    endSpans(tracer(processor, recordOnly), 50);
    expect(processor.pending).toBe(0);
    endSpans(tracer(processor), 2);
    await processor.forceFlush();
    expect(exporter.exported()).toBe(2);
    expect(processor.counts).toEqual({ dropped: 0, failed: 0 });
  });

  it('counts spans ended after shutdown as dropped, not pending', async () => {
    const exporter = new ManualExporter('ok');
    const processor = new BoundedSpanProcessor(exporter, { maxPending: 4 });
    const t = tracer(processor);
    endSpans(t, 1);
    await processor.shutdown();
    expect(exporter.exported()).toBe(1);
    endSpans(t, 5);
    expect(processor.pending).toBe(0);
    expect(processor.counts).toEqual({ dropped: 5, failed: 0 });
  });

  it('counts a failing exporter\'s spans as failed and frees their place', async () => {
    const exporter = new ManualExporter('fail');
    const processor = new BoundedSpanProcessor(exporter, { maxPending: 3 });
    const t = tracer(processor);
    endSpans(t, 3);
    await processor.forceFlush().catch(() => undefined);
    expect(processor.pending).toBe(0);
    expect(processor.counts).toEqual({ dropped: 0, failed: 3 });
    // Still accepted and sent, not dropped: the failure freed the cap.
    endSpans(t, 3);
    await processor.forceFlush().catch(() => undefined);
    expect(exporter.exported()).toBe(6);
    expect(processor.counts).toEqual({ dropped: 0, failed: 6 });
  });

  it('counts a throwing exporter\'s spans as failed and frees their place', async () => {
    const processor = new BoundedSpanProcessor(new ManualExporter('throw'), { maxPending: 3 });
    endSpans(tracer(processor), 2);
    await processor.forceFlush().catch(() => undefined);
    expect(processor.pending).toBe(0);
    expect(processor.counts).toEqual({ dropped: 0, failed: 2 });
  });

  it('drops over the cap while a slow exporter holds spans, and recovers when the export times out', async () => {
    const exporter = new ManualExporter('manual');
    const processor = new BoundedSpanProcessor(exporter, { maxPending: 2, exportTimeoutMs: 100 });
    const t = tracer(processor);
    endSpans(t, 2);
    void processor.forceFlush().catch(() => undefined);
    await until(() => exporter.batches.length === 1);
    endSpans(t, 3);
    expect(processor.counts).toEqual({ dropped: 3, failed: 0 });
    // The exporter never answers: after the export timeout its spans are failed, and the cap has room again.
    await until(() => processor.pending === 0);
    expect(processor.counts).toEqual({ dropped: 3, failed: 2 });
    // A late answer changes nothing.
    exporter.batches[0]?.done({ code: ExportResultCode.SUCCESS });
    expect(processor.counts).toEqual({ dropped: 3, failed: 2 });
    endSpans(t, 1);
    expect(processor.pending).toBe(1);
  });
});
