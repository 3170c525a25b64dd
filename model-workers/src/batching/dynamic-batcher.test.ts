import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { InferRequest } from '../protocol/infer-request.ts';
import { DynamicBatcher, type BatchExecutor } from './dynamic-batcher.ts';
import type { ShapedData } from './tensor-batch.ts';

const HOUR_MICROS = 3_600_000_000;

/** An executor computing y = 2x row by row, recording the batch sizes it saw. */
function doubling(seen: number[], delayMs = 0): BatchExecutor {
  return async (inputs) => {
    const x = inputs.get('x') as ShapedData;
    seen.push(x.shape[0] ?? 0);
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const y = Float32Array.from(x.data as Float32Array, (v) => v * 2);
    return new Map([['y', { shape: x.shape, data: y }]]);
  };
}

function request(rows: number, width = 2, start = 0): InferRequest {
  const data = Float32Array.from({ length: rows * width }, (_, i) => start + i);
  return { inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, width], data }], outputs: ['y'], batchSize: rows };
}

function batcher(options: Partial<ConstructorParameters<typeof DynamicBatcher>[0]> & { execute: BatchExecutor }): DynamicBatcher {
  return new DynamicBatcher({
    maxBatchSize: 8, maxQueueDelayMicros: 5000, maxQueueSize: 100,
    tracer: trace.getTracer('test'), spanAttributes: {}, ...options,
  });
}

describe('dynamic batcher', () => {
  it('merges concurrent requests into one run and gives each request its own rows', async () => {
    const seen: number[] = [];
    // A full batch (4 rows) dispatches at once; the hour-long delay means no timer can split it on a slow machine.
    const b = batcher({ execute: doubling(seen), maxBatchSize: 4, maxQueueDelayMicros: HOUR_MICROS });
    const results = await Promise.all([b.submit(request(1, 2, 0)), b.submit(request(2, 2, 10)), b.submit(request(1, 2, 20))]);
    expect(seen).toEqual([4]);
    expect(results.map((r) => Array.from(r.get('y')?.data as Float32Array))).toEqual([[0, 2], [20, 22, 24, 26], [40, 42]]);
    expect(results.map((r) => r.get('y')?.shape)).toEqual([[1, 2], [2, 2], [1, 2]]);
  });

  it('runs as soon as a full batch is queued, without waiting for the delay', async () => {
    const seen: number[] = [];
    // Waiting for the delay would outlast the test's timeout.
    const b = batcher({ execute: doubling(seen), maxQueueDelayMicros: HOUR_MICROS });
    await Promise.all(Array.from({ length: 8 }, () => b.submit(request(1))));
    expect(seen).toEqual([8]);
  });

  it('never exceeds the maximum batch size and keeps arrival order', async () => {
    const seen: number[] = [];
    const b = batcher({ execute: doubling(seen, 5), maxBatchSize: 4 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(request(1, 1, i))));
    expect(Math.max(...seen)).toBeLessThanOrEqual(4);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(10);
    expect(results.map((r) => (r.get('y')?.data as Float32Array)[0])).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
  });

  it('does not merge requests whose non-batch dimensions differ', async () => {
    const seen: number[] = [];
    const b = batcher({ execute: doubling(seen) });
    const [narrow, wide] = await Promise.all([b.submit(request(1, 2)), b.submit(request(1, 3))]);
    expect(seen.sort()).toEqual([1, 1]);
    expect(narrow.get('y')?.shape).toEqual([1, 2]);
    expect(wide.get('y')?.shape).toEqual([1, 3]);
  });

  it('runs every request alone when batching is off', async () => {
    const seen: number[] = [];
    const b = batcher({ execute: doubling(seen), maxBatchSize: 0 });
    await Promise.all([b.submit(request(3)), b.submit(request(2))]);
    expect(seen).toEqual([3, 2]);
  });

  it('refuses requests beyond the queue bound with 429 and Retry-After', async () => {
    const b = batcher({ execute: doubling([], 50), maxBatchSize: 1, maxQueueSize: 2 });
    const accepted = [b.submit(request(1)), b.submit(request(1)), b.submit(request(1))];
    const refused = b.submit(request(1)).catch((e: unknown) => e);
    const error = (await refused) as { status: number; headers: Record<string, string>; message: string };
    expect(error.status).toBe(429);
    expect(error.headers['Retry-After']).toBe('1');
    expect(error.message).toMatch(/queue is full/);
    await Promise.all(accepted);
    await b.idle();
    expect(b.depth).toBe(0);
  });

  it('fails every request of a batch with 500 when the run fails, and keeps serving', async () => {
    let fail = true;
    const b = batcher({
      execute: async (inputs) => {
        if (fail) throw new Error('device lost');
        return doubling([])(inputs);
      },
    });
    const outcomes = await Promise.allSettled([b.submit(request(1)), b.submit(request(1))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(((outcomes[0] as PromiseRejectedResult).reason as { status: number }).status).toBe(500);
    fail = false;
    await expect(b.submit(request(1))).resolves.toBeInstanceOf(Map);
  });
});
