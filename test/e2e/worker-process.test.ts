import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkerProcess, type WorkerProcess } from '@switchyard/fleet/worker-process';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { eventually } from '../src/eventually.ts';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface InferBody {
  model_version: string;
  outputs: Array<{ name: string; shape: number[]; data: number[] }>;
}

function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function featureRequest(rows: number[][]) {
  return { inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 2], data: rows }] };
}

function metricValue(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  if (!match) throw new Error(`metric ${pattern} not found in:\n${text}`);
  return Number(match[1]);
}

describe('model worker process over HTTP', () => {
  let repository: string;
  let worker: WorkerProcess;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-e2e-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    // A copy whose queue waits long enough to observe draining.
    await mkdir(join(repository, 'slow-queue', '1'), { recursive: true });
    await copyFile(join(repository, 'seed-classifier', '1', 'model.onnx'), join(repository, 'slow-queue', '1', 'model.onnx'));
    await writeFile(join(repository, 'slow-queue', 'config.yaml'), 'max_batch_size: 64\ndynamic_batching:\n  max_queue_delay_microseconds: 5000000\n');
    worker = await startWorkerProcess({ model: 'seed-classifier', repository });
  });
  afterAll(async () => {
    await worker?.stop();
    await rm(repository, { recursive: true, force: true });
  });

  it('serves metadata and inference on a real socket', async () => {
    const meta = (await (await fetch(`${worker.url}/v2/models/seed-classifier`)).json()) as { versions: string[] };
    expect(meta.versions).toEqual(['1', '2']);
    const res = await post(`${worker.url}/v2/models/seed-classifier/infer`, featureRequest([[0, 0]]));
    expect(res.status).toBe(200);
    const body = (await res.json()) as InferBody;
    expect(body.outputs[0]?.shape).toEqual([1, 2]);
    expect((body.outputs[0]?.data[1] ?? 0)).toBeGreaterThan(0.5);
  });

  it('batches concurrent requests (average batch size > 1) and returns what unbatched requests return', async () => {
    const rows = Array.from({ length: 64 }, (_, i) => [Math.sin(i * 1.3), Math.cos(i * 0.4)]);
    const sequential: number[][] = [];
    for (const row of rows) {
      const body = (await (await post(`${worker.url}/v2/models/seed-classifier/versions/1/infer`, featureRequest([row]))).json()) as InferBody;
      sequential.push(body.outputs[0]?.data ?? []);
    }
    const before = await (await fetch(`${worker.url}/metrics`)).text();
    const concurrent = await Promise.all(
      rows.map(async (row) => ((await (await post(`${worker.url}/v2/models/seed-classifier/versions/1/infer`, featureRequest([row]))).json()) as InferBody).outputs[0]?.data),
    );
    const after = await (await fetch(`${worker.url}/metrics`)).text();
    const executions = /switchyard_worker_executions_total\{model="seed-classifier",version="1"\} (\d+)/;
    const inferences = /switchyard_worker_inferences_total\{model="seed-classifier",version="1"\} (\d+)/;
    const runs = metricValue(after, executions) - metricValue(before, executions);
    const served = metricValue(after, inferences) - metricValue(before, inferences);
    expect(served).toBe(64);
    expect(served / runs).toBeGreaterThan(1);
    expect(concurrent).toEqual(sequential);
  });

  it('answers oversized bodies with 413 and keeps serving', async () => {
    const res = await post(`${worker.url}/v2/models/seed-classifier/infer`, { ...featureRequest([[0, 0]]), pad: 'x'.repeat(17 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/exceeds/);
    expect((await fetch(`${worker.url}/v2/health/ready`)).status).toBe(200);
  });

  it('answers random payloads over HTTP with 2xx or 4xx {"error"} and never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.string()), async (body) => {
        const res = await post(`${worker.url}/v2/models/seed-classifier/infer`, typeof body === 'string' ? body : JSON.stringify(body));
        expect(res.status).toBeLessThan(500);
        const json = (await res.json()) as Record<string, unknown>;
        if (res.status >= 400) expect(typeof json.error).toBe('string');
      }),
      { numRuns: 200 },
    );
    expect(worker.child.exitCode).toBeNull();
    expect((await fetch(`${worker.url}/v2/health/live`)).status).toBe(200);
  });

  it('on SIGTERM finishes queued requests, then exits 0', async () => {
    const slow = await startWorkerProcess({ model: 'slow-queue', repository });
    const url = `${slow.url}/v2/models/slow-queue/infer`;
    const pending = Array.from({ length: 5 }, (_, i) => post(url, featureRequest([[i / 10, 0]])));
    // All five wait in the batch queue (its delay is 5 s) when the signal arrives.
    await eventually(
      async () => Number(/^switchyard_worker_queue_depth\{[^}]*\} (\d+)$/m.exec(await (await fetch(`${slow.url}/metrics`)).text())?.[1]),
      (depth) => depth === 5,
      4000,
    );
    slow.child.kill('SIGTERM');
    const exitCode = new Promise<number | null>((resolve) => slow.child.once('exit', resolve));
    const responses = await Promise.all(pending);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // Answered during the drain: the client is told not to reuse the connection.
    expect(responses.map((r) => r.headers.get('connection'))).toEqual(Array(5).fill('close'));
    expect(await exitCode).toBe(0);
    expect(slow.lines.some((l) => l.includes('"msg":"draining: finishing in-flight requests"'))).toBe(true);
    expect(slow.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });

  it('refuses to start on a bad model config, naming the file', async () => {
    await mkdir(join(repository, 'broken', '1'), { recursive: true });
    await copyFile(join(repository, 'seed-classifier', '1', 'model.onnx'), join(repository, 'broken', '1', 'model.onnx'));
    await writeFile(join(repository, 'broken', 'config.yaml'), 'max_batch_size: lots\n');
    await expect(startWorkerProcess({ model: 'broken', repository })).rejects.toThrowError(/exited with code 1[\s\S]*broken\/config\.yaml: invalid model config[\s\S]*max_batch_size/);
  });
});
