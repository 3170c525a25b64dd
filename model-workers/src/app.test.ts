import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict } from './samples/dense-network.ts';
import { trainSeedClassifier } from './samples/sample-networks.ts';
import { writeSampleRepository } from './samples/write-samples.ts';
import { writeTypedEcho } from './testing/fixture-models.ts';
import { postJson, startInProcessWorker, type InProcessWorker } from './testing/worker-harness.ts';

const INFER = '/v2/models/seed-classifier/infer';

function features(rows: number[][]) {
  return { inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 2], data: rows }] };
}

interface InferBody {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }>;
}

describe('model worker app', () => {
  let repository: string;
  let worker: InProcessWorker;
  let echo: InProcessWorker;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-app-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    await writeTypedEcho(repository);
    worker = await startInProcessWorker({ repository, model: 'seed-classifier', maxBodyBytes: 64 * 1024 });
    echo = await startInProcessWorker({ repository, model: 'typed-echo' });
  });
  afterAll(async () => {
    await worker.close();
    await echo.close();
    await rm(repository, { recursive: true, force: true });
  });

  describe('health and metadata', () => {
    it("routes with Hono's RegExpRouter (no route shape forces the slower TrieRouter), /v2/models/stats included", async () => {
      expect((await worker.app.request('/v2/models/stats')).status).toBe(200);
      expect(worker.app.router.name).toBe('SmartRouter + RegExpRouter');
    });

    it('reports live, ready and server metadata', async () => {
      expect((await worker.app.request('/v2/health/live')).status).toBe(200);
      expect(await (await worker.app.request('/v2/health/ready')).json()).toEqual({ ready: true });
      expect(await (await worker.app.request('/v2')).json()).toMatchObject({ name: 'switchyard-model-worker' });
    });

    it('describes the model with -1 for the batch dimension, its versions and provider', async () => {
      const body = await (await worker.app.request('/v2/models/seed-classifier')).json();
      expect(body).toEqual({
        name: 'seed-classifier',
        versions: ['1', '2'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
        parameters: { max_batch_size: 64, execution_provider: 'cpu' },
      });
      const v1 = await (await worker.app.request('/v2/models/seed-classifier/versions/1')).json();
      expect(v1).toMatchObject({ versions: ['1'] });
    });

    it('answers model readiness per version and 404 for unknown models and versions', async () => {
      expect((await worker.app.request('/v2/models/seed-classifier/ready')).status).toBe(200);
      expect((await worker.app.request('/v2/models/seed-classifier/versions/2/ready')).status).toBe(200);
      const unknown = await worker.app.request('/v2/models/other/ready');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: "unknown model 'other'; this worker serves 'seed-classifier'" });
      const missing = await worker.app.request('/v2/models/seed-classifier/versions/7');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: "model 'seed-classifier' has no version '7'; available: 1, 2" });
    });
  });

  describe('inference', () => {
    it('serves the latest version, echoes the id, and matches the reference network', async () => {
      const rows = [[0, 0], [0.9, -0.9], [0.2, 0.1]];
      const res = await postJson(worker.app, INFER, { id: 'req-42', ...features(rows) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as InferBody;
      expect(body).toMatchObject({ model_name: 'seed-classifier', model_version: '2', id: 'req-42' });
      const [output] = body.outputs;
      expect(output).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [3, 2] });
      const reference = rows.flatMap((r) => [...predict(trainSeedClassifier(2).network, r)]);
      (output?.data as number[]).forEach((v, i) => expect(v).toBeCloseTo(reference[i] ?? NaN, 5));
    });

    it('serves a named version, and flat data equals nested data', async () => {
      const nested = (await (await postJson(worker.app, '/v2/models/seed-classifier/versions/1/infer', features([[0.3, 0.4], [-1, 1]]))).json()) as InferBody;
      const flat = (await (await postJson(worker.app, '/v2/models/seed-classifier/versions/1/infer', {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [0.3, 0.4, -1, 1] }],
      })).json()) as InferBody;
      expect(nested.model_version).toBe('1');
      expect(flat.outputs).toEqual(nested.outputs);
      const reference = [...predict(trainSeedClassifier(1).network, [0.3, 0.4])];
      expect((nested.outputs[0]?.data[0] as number)).toBeCloseTo(reference[0] ?? NaN, 5);
    });

    it('honours the outputs filter and rejects unknown outputs', async () => {
      const body = (await (await postJson(worker.app, INFER, { ...features([[0, 0]]), outputs: [{ name: 'probabilities' }] })).json()) as InferBody;
      expect(body.outputs.map((o) => o.name)).toEqual(['probabilities']);
      const res = await postJson(worker.app, INFER, { ...features([[0, 0]]), outputs: [{ name: 'logits' }] });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "unknown output 'logits'; this model has 'probabilities'" });
    });

    it('serves the v1 :predict form with one prediction per instance', async () => {
      const res = await postJson(worker.app, '/v1/models/seed-classifier:predict', { instances: [[0, 0], [0.9, 0.9]] });
      expect(res.status).toBe(200);
      const { predictions } = (await res.json()) as { predictions: number[][] };
      expect(predictions).toHaveLength(2);
      expect(predictions[0]?.[1]).toBeGreaterThan(0.5);
      expect(predictions[1]?.[0]).toBeGreaterThan(0.5);
      const v1 = await postJson(worker.app, '/v1/models/seed-classifier/versions/1:predict', { instances: [[0, 0]] });
      expect(v1.status).toBe(200);
      const bad = await postJson(worker.app, '/v1/models/seed-classifier:predict', { instances: [[0, 0, 0]] });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: "input 'features': expected shape [-1, 2], got [1, 3] (dim 1 must be 2)" });
    });

    it('carries every datatype through a model that takes it, BYTES as strings', async () => {
      const data: Record<string, unknown[]> = {
        BOOL: [true, false], UINT8: [0, 255], UINT16: [1, 65535], UINT32: [0, 4294967295], UINT64: ['18446744073709551615', 1],
        INT8: [-128, 127], INT16: [-32768, 5], INT32: [-2147483648, 7], INT64: ['-9223372036854775808', 42],
        FP16: [1.5, -0.25], FP32: [0.5, -3.25], FP64: [1e-300, 2.5], BYTES: ['héllo', ''],
      };
      const inputs = Object.entries(data).map(([datatype, values]) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [1, 2], data: values }));
      const res = await postJson(echo.app, '/v2/models/typed-echo/infer', { inputs });
      expect(res.status).toBe(200);
      const text = await res.text();
      // 64-bit integers are written exactly, as JSON numbers.
      expect(text).toContain('"data":[18446744073709551615,1]');
      expect(text).toContain('"data":[-9223372036854775808,42]');
      const body = JSON.parse(text) as InferBody;
      const byName = new Map(body.outputs.map((o) => [o.name, o]));
      expect(byName.get('out_bool')?.data).toEqual([true, false]);
      expect(byName.get('out_fp16')?.data).toEqual([1.5, -0.25]);
      expect(byName.get('out_fp64')?.data).toEqual([1e-300, 2.5]);
      expect(byName.get('out_bytes')).toEqual({ name: 'out_bytes', datatype: 'BYTES', shape: [1, 2], data: ['héllo', ''] });
      expect(byName.get('out_uint8')?.data).toEqual([0, 255]);
    });
  });

  describe('bad input', () => {
    const cases: Array<[string, unknown, number, RegExp]> = [
      ['a wrong input name', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }] }, 400, /unknown input 'x'; this model takes 'features'/],
      ['a wrong datatype', { inputs: [{ name: 'features', datatype: 'INT32', shape: [1, 2], data: [1, 2] }] }, 400, /expected datatype FP32, got INT32/],
      ['an unknown datatype', { inputs: [{ name: 'features', datatype: 'FLOAT', shape: [1, 2], data: [1, 2] }] }, 400, /unknown datatype "FLOAT"; expected FP32/],
      ['a wrong rank', { inputs: [{ name: 'features', datatype: 'FP32', shape: [2], data: [1, 2] }] }, 400, /expected rank 2 \[-1, 2\], got \[2\]/],
      ['a wrong fixed dimension', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }, 400, /dim 1 must be 2/],
      ['an element count that does not match the shape', { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }] }, 400, /shape \[2, 2\] holds 4 elements, data has 3/],
      ['a batch over the maximum', { inputs: [{ name: 'features', datatype: 'FP32', shape: [65, 2], data: new Array(130).fill(0) }] }, 400, /batch size \(dim 0\) must be between 1 and 64, got 65/],
      ['an empty batch', { inputs: [{ name: 'features', datatype: 'FP32', shape: [0, 2], data: [] }] }, 400, /between 1 and 64, got 0/],
      ['a string where a number belongs', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [1, 'NaN'] }] }, 400, /element 1 must be a number for FP32, got "NaN"/],
      ['no inputs', { inputs: [] }, 400, /non-empty "inputs" array/],
      ['a missing input list', { id: 'x' }, 400, /non-empty "inputs" array/],
      ['a non-object body', [1, 2], 400, /must be a JSON object/],
      ['a numeric id', { id: 7, ...features([[0, 0]]) }, 400, /id must be a string/],
      ['a duplicated input', { inputs: [features([[0, 0]]).inputs[0], features([[0, 0]]).inputs[0]] }, 400, /given more than once/],
      ['a negative dimension', { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2], data: [1, 2] }] }, 400, /non-negative integers/],
      ['a huge shape', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2 ** 40], data: [1, 2] }] }, 400, /more elements than this server accepts/],
      ['binary_data_size without a binary part', { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }] }, 400, /binary_data_size is set but the request has no binary part; send the Inference-Header-Content-Length header/],
    ];
    it.each(cases)('answers %s with a 4xx and a clear message', async (_, body, status, message) => {
      const res = await postJson(worker.app, INFER, body);
      expect(res.status).toBe(status);
      const json = (await res.json()) as { error: string };
      expect(Object.keys(json)).toEqual(['error']);
      expect(json.error).toMatch(message);
    });

    it('answers malformed JSON with 400, a wrong content type with 415, an oversized body with 413', async () => {
      const malformed = await postJson(worker.app, INFER, '{"inputs": [');
      expect(malformed.status).toBe(400);
      expect(((await malformed.json()) as { error: string }).error).toMatch(/^malformed JSON body/);
      const text = await worker.app.request(INFER, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
      expect(text.status).toBe(415);
      const huge = await postJson(worker.app, INFER, { ...features([[0, 0]]), padding: 'x'.repeat(70 * 1024) });
      expect(huge.status).toBe(413);
      expect(await huge.json()).toEqual({ error: 'request body exceeds 65536 bytes' });
    });

    it('answers unknown routes and models with 404 and a JSON error', async () => {
      const route = await worker.app.request('/v3/nothing');
      expect(route.status).toBe(404);
      expect(await route.json()).toEqual({ error: 'no route for GET /v3/nothing' });
      expect((await postJson(worker.app, '/v2/models/other/infer', features([[0, 0]]))).status).toBe(404);
      expect((await postJson(worker.app, '/v2/models/seed-classifier/versions/abc/infer', features([[0, 0]]))).status).toBe(404);
    });
  });

  describe('batching', () => {
    it('merges concurrent requests into one session.run and returns what unbatched runs return', async () => {
      const rows = Array.from({ length: 24 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7)]);
      const single = await Promise.all(rows.map(async (row) => {
        const body = (await (await postJson(worker.app, INFER, features([row]))).json()) as InferBody;
        return body;
      }));
      const metrics = await worker.metrics.render();
      const executions = Number(/switchyard_worker_executions_total\{model="seed-classifier",version="2"\} (\d+)/.exec(metrics)?.[1]);
      const inferences = Number(/switchyard_worker_inferences_total\{model="seed-classifier",version="2"\} (\d+)/.exec(metrics)?.[1]);
      // Concurrent single-row requests were served in fewer runs than rows: average batch size > 1.
      expect(inferences / executions).toBeGreaterThan(1);
      expect(metrics).toMatch(/switchyard_worker_batch_size_bucket\{model="seed-classifier",version="2",le="1"\} \d+/);

      const batched = (await (await postJson(worker.app, INFER, features(rows))).json()) as InferBody;
      const unbatchedData = single.flatMap((b) => b.outputs[0]?.data ?? []);
      expect(unbatchedData).toEqual(batched.outputs[0]?.data);
    });
  });

  describe('metrics', () => {
    it('exposes request counts by status, latency histograms, queue depth and provider', async () => {
      await postJson(worker.app, INFER, features([[0, 0]]));
      await postJson(worker.app, INFER, { inputs: [] });
      const text = await (await worker.app.request('/metrics')).text();
      expect(text).toMatch(/switchyard_worker_requests_total\{model="seed-classifier",version="2",status="200"\} \d+/);
      expect(text).toMatch(/switchyard_worker_requests_total\{model="seed-classifier",version="2",status="400"\} \d+/);
      expect(text).toMatch(/switchyard_worker_request_duration_seconds_bucket\{model="seed-classifier",version="2",status="200",le="0.005"\}/);
      expect(text).toMatch(/switchyard_worker_queue_wait_seconds_count/);
      expect(text).toMatch(/switchyard_worker_queue_depth\{model="seed-classifier",version="1"\} 0/);
      expect(text).toMatch(/switchyard_worker_execution_provider_info\{model="seed-classifier",version="2",provider="cpu"\} 1/);
    });
    it('labels requests for other models as unknown, never with the name from the path, and starts a version\'s counters at zero', async () => {
      const unknown404 = async () =>
        Number(/^switchyard_worker_requests_total\{model="unknown",version="unknown",status="404"\} (\d+)$/m.exec(await (await worker.app.request('/metrics')).text())?.[1] ?? 0);
      const before = await unknown404();
      expect((await postJson(worker.app, '/v2/models/probe-x/infer', features([[0, 0]]))).status).toBe(404);
      expect((await postJson(worker.app, '/v2/models/seed-classifier/versions/77/infer', features([[0, 0]]))).status).toBe(404);
      const text = await (await worker.app.request('/metrics')).text();
      expect(text).not.toContain('probe-x');
      expect(text).not.toContain('version="77"');
      expect((await unknown404()) - before).toBe(2);
      expect(text).toMatch(/^switchyard_worker_requests_total\{model="seed-classifier",version="1",status="429"\} 0$/m);
      expect(text).toMatch(/^switchyard_worker_queue_capacity\{model="seed-classifier",version="2"\} [1-9]\d*$/m);
    });
  });

  describe('lifecycle', () => {
    it('stops reporting ready while draining, yet finishes queued requests', async () => {
      const draining = await startInProcessWorker({ repository, model: 'seed-classifier' });
      const queued = postJson(draining.app, '/v2/models/seed-classifier/infer', features([[0, 0]]));
      const drained = draining.host.drain();
      const ready = await draining.app.request('/v2/health/ready');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ready: false, phase: 'draining' });
      expect((await queued).status).toBe(200);
      await drained;
      await draining.metrics.shutdown();
    });
  });
});
