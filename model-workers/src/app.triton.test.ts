/**
 * Conformance of the worker's Triton extensions, written from the binary
 * tensor, classification, model configuration, statistics and model
 * repository extension documents, plus request/response compression.
 * Bodies are built byte by byte here, independently of the worker's codec.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_CLASSIFIER_LABELS, writeSampleRepository } from './samples/write-samples.ts';
import { writeTypedEcho } from './testing/fixture-models.ts';
import { postJson, startInProcessWorker, type InProcessWorker } from './testing/worker-harness.ts';

const INFER = '/v2/models/seed-classifier/infer';

interface OutputJson { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size?: number } }
interface Duration { count: number; ns: number }
interface ModelStat {
  name: string; version: string; last_inference: number; inference_count: number; execution_count: number;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss', Duration>;
  batch_stats: unknown[];
}
interface InferJson { model_name: string; model_version: string; id?: string; outputs: OutputJson[] }

function f32(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

/** A binary-extension request: JSON header then the given raw parts. */
function binaryRequest(header: unknown, parts: Buffer[], extraHeaders: Record<string, string> = {}): RequestInit {
  const head = Buffer.from(JSON.stringify(header));
  return {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length), ...extraHeaders },
    body: Buffer.concat([head, ...parts]),
  };
}

/** Splits a binary-extension response into its JSON header and raw bytes. */
async function readBinaryResponse(res: Response): Promise<{ json: InferJson; raw: Buffer }> {
  const length = Number(res.headers.get('inference-header-content-length'));
  const body = Buffer.from(await res.arrayBuffer());
  expect(Number.isInteger(length) && length > 0 && length <= body.length).toBe(true);
  return { json: JSON.parse(body.subarray(0, length).toString('utf8')) as InferJson, raw: body.subarray(length) };
}

function floatsOf(raw: Buffer): number[] {
  return Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4));
}

describe('worker: Triton HTTP extensions', () => {
  let repository: string;
  let worker: InProcessWorker;
  let echo: InProcessWorker;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-triton-'));
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

  it('lists the extensions it serves in server metadata', async () => {
    const body = (await (await worker.app.request('/v2')).json()) as { extensions: string[] };
    expect(body.extensions).toEqual(['binary_tensor_data', 'classification', 'model_configuration', 'statistics', 'model_repository']);
  });

  describe('binary tensor data', () => {
    const rows = [0.1, 0.2, 0.9, -0.9];
    const header = { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }] };

    it('reads binary inputs and answers in JSON when no binary output is asked for, equal to a JSON request', async () => {
      const res = await worker.app.request(INFER, binaryRequest({ id: 'b-1', ...header }, [f32(rows)]));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('inference-header-content-length')).toBeNull();
      const body = (await res.json()) as InferJson;
      const json = (await (await postJson(worker.app, INFER, { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: rows }] })).json()) as InferJson;
      expect(body.id).toBe('b-1');
      expect(body.outputs).toEqual(json.outputs);
    });

    it('returns every output in binary with binary_data_output, with the JSON header length and octet-stream type', async () => {
      const res = await worker.app.request(INFER, binaryRequest({ ...header, parameters: { binary_data_output: true } }, [f32(rows)]));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      const { json, raw } = await readBinaryResponse(res);
      expect(json.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }]);
      const expected = (await (await postJson(worker.app, INFER, { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: rows }] })).json()) as InferJson;
      expect(floatsOf(raw)).toEqual((expected.outputs[0]?.data as number[]).map(Math.fround));
    });

    it('returns binary for a JSON request that asks with binary_data on the output, and JSON when binary_data is false', async () => {
      const binary = await postJson(worker.app, INFER, { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0, 0] }], outputs: [{ name: 'probabilities', parameters: { binary_data: true } }] });
      const { json, raw } = await readBinaryResponse(binary);
      expect(json.outputs[0]?.parameters).toEqual({ binary_data_size: 8 });
      expect(raw.length).toBe(8);
      const overridden = await worker.app.request(INFER, binaryRequest({ ...header, parameters: { binary_data_output: true }, outputs: [{ name: 'probabilities', parameters: { binary_data: false } }] }, [f32(rows)]));
      expect(overridden.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await overridden.json()) as InferJson).outputs[0]?.data).toHaveLength(4);
    });

    it('mixes JSON and binary inputs and outputs of every datatype in one request (typed-echo)', async () => {
      const i64 = Buffer.alloc(16);
      i64.writeBigInt64LE(-(2n ** 63n), 0);
      i64.writeBigInt64LE(42n, 8);
      const half = Buffer.alloc(4);
      half.writeUInt16LE(0x3e00, 0); // 1.5
      half.writeUInt16LE(0xfc00, 2); // -Infinity
      const text = Buffer.concat([Buffer.from([5, 0, 0, 0]), Buffer.from('héll'), Buffer.from([0, 0, 0, 0])]);
      const binaryInputs: Record<string, Buffer> = { in_int64: i64, in_fp16: half, in_bytes: text, in_bool: Buffer.from([1, 0]), in_fp32: f32([1.25, -2]) };
      const jsonInputs: Record<string, unknown[]> = { in_uint8: [0, 255], in_uint16: [1, 2], in_uint32: [3, 4], in_uint64: [5, 6], in_int8: [-1, 1], in_int16: [-2, 2], in_int32: [-3, 3], in_fp64: [0.5, 1e-300] };
      const inputs = [
        ...Object.entries(binaryInputs).map(([name, bytes]) => ({ name, datatype: name.slice(3).toUpperCase(), shape: [1, 2], parameters: { binary_data_size: bytes.length } })),
        ...Object.entries(jsonInputs).map(([name, data]) => ({ name, datatype: name.slice(3).toUpperCase(), shape: [1, 2], data })),
      ];
      const outputs = Object.keys(binaryInputs).map((name) => ({ name: `out_${name.slice(3)}`, parameters: { binary_data: true } }))
        .concat(Object.keys(jsonInputs).map((name) => ({ name: `out_${name.slice(3)}`, parameters: { binary_data: false } })));
      const res = await echo.app.request('/v2/models/typed-echo/infer', binaryRequest({ inputs, outputs }, Object.values(binaryInputs)));
      expect(res.status).toBe(200);
      const { json, raw } = await readBinaryResponse(res);
      // Binary outputs follow the JSON header in the order they are listed (the model's output order).
      let offset = 0;
      const rawOf = new Map<string, Buffer>();
      for (const out of json.outputs) {
        const size = out.parameters?.binary_data_size;
        if (size === undefined) continue;
        rawOf.set(out.name, raw.subarray(offset, offset + size));
        offset += size;
      }
      expect(offset).toBe(raw.length);
      for (const [name, bytes] of Object.entries(binaryInputs)) expect(rawOf.get(`out_${name.slice(3)}`)?.equals(bytes), name).toBe(true);
      const byName = new Map(json.outputs.map((o) => [o.name, o]));
      expect(byName.get('out_uint8')?.data).toEqual([0, 255]);
      expect(byName.get('out_fp64')?.data).toEqual([0.5, 1e-300]);
      expect(byName.get('out_int8')?.data).toEqual([-1, 1]);
    });

    const bad: Array<[string, RequestInit, RegExp]> = [
      ['a header length past the end of the body', { ...binaryRequest(header, [f32(rows)]), headers: { 'inference-header-content-length': '5000' } }, /Inference-Header-Content-Length 5000 is past the end of the body/],
      ['a header length that is not a number', { ...binaryRequest(header, [f32(rows)]), headers: { 'inference-header-content-length': 'twelve' } }, /must be a byte count, got "twelve"/],
      ['a binary size that does not match shape × datatype', binaryRequest({ inputs: [{ ...header.inputs[0], parameters: { binary_data_size: 12 } }] }, [f32(rows.slice(0, 3))]), /binary_data_size 12 does not match shape \[2, 2\] of FP32 \(expected 4 × 4 = 16 bytes\)/],
      ['more bytes than the inputs declare', binaryRequest(header, [f32([...rows, 7])]), /the binary part has 20 bytes but the inputs' binary_data_size add up to 16/],
      ['fewer bytes than the inputs declare', binaryRequest(header, [f32(rows.slice(0, 2))]), /binary_data_size 16 at byte 0 of the binary part runs past its end \(8 bytes\)/],
      ['both data and binary_data_size', binaryRequest({ inputs: [{ ...header.inputs[0], data: rows }] }, [f32(rows)]), /give either "data" or parameters.binary_data_size, not both/],
      ['a negative binary_data_size', binaryRequest({ inputs: [{ ...header.inputs[0], parameters: { binary_data_size: -4 } }] }, []), /binary_data_size must be a non-negative integer, got -4/],
      ['binary_data_output that is not a boolean', binaryRequest({ ...header, parameters: { binary_data_output: 'yes' } }, [f32(rows)]), /parameters.binary_data_output must be true or false, got "yes"/],
    ];
    it.each(bad)('answers %s with 400 and a clear message', async (_, init, message) => {
      const res = await worker.app.request(INFER, init);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string };
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error).toMatch(message);
    });

    it('answers arbitrary binary bodies and header lengths with 200 or a 4xx JSON error, never a 5xx', async () => {
      await fc.assert(fc.asyncProperty(
        fc.record({ size: fc.oneof(fc.constant(16), fc.integer({ min: -2, max: 40 }), fc.jsonValue()), shape: fc.oneof(fc.constant([2, 2]), fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 })) }),
        fc.uint8Array({ maxLength: 48 }),
        fc.oneof(fc.constant(undefined), fc.integer({ min: -3, max: 200 })),
        async ({ size, shape }, tail, delta) => {
          const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape, parameters: { binary_data_size: size } }] }));
          const length = delta === undefined ? head.length : Math.max(0, head.length + delta);
          const res = await worker.app.request(INFER, { method: 'POST', headers: { 'inference-header-content-length': String(length) }, body: Buffer.concat([head, tail]) });
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expect(Object.keys((await res.json()) as object)).toEqual(['error']);
        },
      ), { numRuns: 150 });
    });
  });

  describe('unsupported Triton features', () => {
    const features = { name: 'features', datatype: 'FP32', shape: [1, 2], data: [0, 0] };
    it.each([
      ['shared memory on an input', { inputs: [{ ...features, parameters: { shared_memory_region: 'r0' } }] }, "input 'features': shared memory (shared_memory_region) is not supported; send the tensor in the request body, as JSON or binary tensor data"],
      ['shared memory on an output', { inputs: [features], outputs: [{ name: 'probabilities', parameters: { shared_memory_region: 'r1' } }] }, "output 'probabilities': shared memory (shared_memory_region) is not supported; send the tensor in the request body, as JSON or binary tensor data"],
      ['a sequence id', { inputs: [features], parameters: { sequence_id: 7, sequence_start: true } }, 'request: sequence batching (sequence_id) is not supported; models are stateless, send each request on its own'],
    ])('refuses %s with 400 naming it, rather than ignoring it', async (_, body, message) => {
      const res = await postJson(worker.app, INFER, body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: message });
    });

    it('answers shared-memory registration paths with a 404 JSON error', async () => {
      const res = await worker.app.request('/v2/systemsharedmemory/status');
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'no route for GET /v2/systemsharedmemory/status' });
    });
  });

  describe('compression', () => {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.5] }] });

    it.each([['gzip', gzipSync], ['deflate', deflateSync]] as const)('decodes a %s request body', async (encoding, compressor) => {
      const res = await worker.app.request(INFER, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: compressor(body) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as InferJson).outputs[0]?.shape).toEqual([1, 2]);
    });

    it('refuses with 413 a small gzip body that inflates past the body limit', async () => {
      const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
      expect(bomb.length).toBeLessThan(64 * 1024);
      const res = await worker.app.request(INFER, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'request body exceeds 65536 bytes once decoded (Content-Encoding: gzip)' });
    });

    it('answers corrupt gzip with 400 and an unsupported coding with 415', async () => {
      const corrupt = await worker.app.request(INFER, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: Buffer.from('not gzip at all') });
      expect(corrupt.status).toBe(400);
      expect(((await corrupt.json()) as { error: string }).error).toMatch(/^request body is not valid gzip data/);
      const br = await worker.app.request(INFER, { method: 'POST', headers: { 'content-encoding': 'br' }, body: Buffer.from(body) });
      expect(br.status).toBe(415);
      expect(await br.json()).toEqual({ error: "unsupported Content-Encoding 'br'; send gzip, deflate or identity" });
    });

    it('compresses responses for clients that send Accept-Encoding, binary ones included', async () => {
      const rows = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i)]);
      const request = { inputs: [{ name: 'features', datatype: 'FP32', shape: [64, 2], data: rows }] };
      const plain = await postJson(worker.app, INFER, request);
      expect(plain.headers.get('content-encoding')).toBeNull();
      const zipped = await postJson(worker.app, INFER, request, { 'accept-encoding': 'gzip' });
      expect(zipped.headers.get('content-encoding')).toBe('gzip');
      expect(JSON.parse(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString())).toEqual(await plain.json());
      // Every datatype, 8 rows, all outputs binary: past the 1 KiB threshold.
      const inputs = ['bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'fp16', 'fp32', 'fp64', 'bytes'].map((t) => ({
        name: `in_${t}`, datatype: t.toUpperCase(), shape: [8, 2], data: Array.from({ length: 16 }, (_, i) => (t === 'bool' ? i % 2 === 0 : t === 'bytes' ? `s${i}` : i)),
      }));
      const binary = await postJson(echo.app, '/v2/models/typed-echo/infer', { inputs, parameters: { binary_data_output: true } }, { 'accept-encoding': 'gzip' });
      expect(binary.status).toBe(200);
      expect(binary.headers.get('content-encoding')).toBe('gzip');
      expect(binary.headers.get('inference-header-content-length')).not.toBeNull();
    });

    it('sends an answer under 1 KiB as it is, whatever the client accepts', async () => {
      const request = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] };
      const res = await postJson(worker.app, INFER, request, { 'accept-encoding': 'gzip, deflate, br' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBeNull();
      const text = await res.text();
      expect(Number(res.headers.get('content-length'))).toBe(new TextEncoder().encode(text).byteLength);
      expect(JSON.parse(text)).toMatchObject({ model_name: 'seed-classifier', outputs: [{ name: 'probabilities', shape: [1, 2] }] });
      const binary = await postJson(worker.app, INFER, { ...request, parameters: { binary_data_output: true } }, { 'accept-encoding': 'gzip' });
      expect(binary.headers.get('content-encoding')).toBeNull();
      expect(Number(binary.headers.get('content-length'))).toBe((await binary.arrayBuffer()).byteLength);
    });
  });

  describe('classification', () => {
    const probe = { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [[0, 0], [0.95, 0.95]] }] };

    it('returns the top class per row as "score:index:label" BYTES, labels from labels.txt', async () => {
      const raw = (await (await postJson(worker.app, INFER, probe)).json()) as InferJson;
      const probabilities = raw.outputs[0]?.data as number[];
      const res = await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { classification: 1 } }] });
      expect(res.status).toBe(200);
      const [out] = ((await res.json()) as InferJson).outputs;
      expect(out).toMatchObject({ name: 'probabilities', datatype: 'BYTES', shape: [2, 1] });
      const entries = (out?.data as string[]).map((e) => e.split(':'));
      for (let r = 0; r < 2; r++) {
        const row = probabilities.slice(r * 2, r * 2 + 2);
        const best = row[1]! > row[0]! ? 1 : 0;
        expect(entries[r]?.[1]).toBe(String(best));
        expect(entries[r]?.[2]).toBe(SEED_CLASSIFIER_LABELS[best]);
        expect(Number(entries[r]?.[0])).toBeCloseTo(row[best]!, 6);
      }
      expect(entries.map((e) => e[2])).toEqual(['inside', 'outside']);
    });

    it('orders k > 1 classes by value, clamps k to the classes there are, and may come back in binary', async () => {
      const res = await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { classification: 5, binary_data: true } }] });
      const { json, raw } = await readBinaryResponse(res);
      expect(json.outputs[0]).toMatchObject({ datatype: 'BYTES', shape: [2, 2] });
      const strings: string[] = [];
      for (let o = 0; o < raw.length;) {
        const n = raw.readUInt32LE(o);
        strings.push(raw.subarray(o + 4, o + 4 + n).toString('utf8'));
        o += 4 + n;
      }
      expect(strings.map((s) => s.split(':')[2])).toEqual(['inside', 'outside', 'outside', 'inside']);
      expect(Number(strings[0]?.split(':')[0])).toBeGreaterThan(Number(strings[1]?.split(':')[0]));
    });

    it('answers with indices only for a model without labels', async () => {
      const res = await postJson(echo.app, '/v2/models/typed-echo/infer', {
        inputs: [{ name: 'in_int32', datatype: 'INT32', shape: [1, 2], data: [3, 9] }],
        outputs: [{ name: 'out_int32', parameters: { classification: 2 } }],
      });
      expect(res.status).toBe(400); // typed-echo needs every input; the next request sends them all
      const inputs = ['bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'fp16', 'fp32', 'fp64', 'bytes'].map((t) => ({
        name: `in_${t}`, datatype: t.toUpperCase(), shape: [1, 2], data: t === 'bool' ? [true, false] : t === 'bytes' ? ['a', 'b'] : [3, 9],
      }));
      const ok = await postJson(echo.app, '/v2/models/typed-echo/infer', { inputs, outputs: [{ name: 'out_int32', parameters: { classification: 2 } }] });
      expect(((await ok.json()) as InferJson).outputs).toEqual([{ name: 'out_int32', datatype: 'BYTES', shape: [1, 2], data: ['9:1', '3:0'] }]);
      const onBytes = await postJson(echo.app, '/v2/models/typed-echo/infer', { inputs, outputs: [{ name: 'out_bytes', parameters: { classification: 1 } }] });
      expect(onBytes.status).toBe(400);
      expect(await onBytes.json()).toEqual({ error: "output 'out_bytes': classification needs a numeric output, this one is BYTES" });
    });

    it('accepts class_count as an alias of the wire parameter classification', async () => {
      const wire = await (await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] })).json();
      const alias = await (await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { class_count: 2 } }] })).json();
      expect(alias).toEqual(wire);
    });

    it('refuses a classification count that is not a non-negative integer, or two that disagree', async () => {
      const res = await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { classification: 1.5 } }] });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "output 'probabilities': parameters.classification must be a non-negative integer, got 1.5" });
      const alias = await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { class_count: -1 } }] });
      expect(await alias.json()).toEqual({ error: "output 'probabilities': parameters.class_count must be a non-negative integer, got -1" });
      const both = await postJson(worker.app, INFER, { ...probe, outputs: [{ name: 'probabilities', parameters: { classification: 1, class_count: 2 } }] });
      expect(both.status).toBe(400);
      expect(((await both.json()) as { error: string }).error).toMatch(/disagree/);
    });
  });

  describe('non-finite outputs', () => {
    it('writes NaN and infinities as "NaN", "Infinity", "-Infinity" in JSON, never null, and as IEEE values in binary', async () => {
      const inputs = ['bool', 'uint8', 'uint16', 'uint32', 'uint64', 'int8', 'int16', 'int32', 'int64', 'fp16', 'fp32', 'fp64', 'bytes']
        .filter((t) => t !== 'fp32' && t !== 'fp64')
        .map((t) => ({ name: `in_${t}`, datatype: t.toUpperCase(), shape: [1, 2], data: t === 'bool' ? [true, false] : t === 'bytes' ? ['a', 'b'] : [1, 2] }));
      const fp64 = Buffer.alloc(16);
      fp64.writeDoubleLE(Infinity, 0);
      fp64.writeDoubleLE(-Infinity, 8);
      const header = {
        inputs: [...inputs, { name: 'in_fp32', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }, { name: 'in_fp64', datatype: 'FP64', shape: [1, 2], parameters: { binary_data_size: 16 } }],
        outputs: [{ name: 'out_fp32' }, { name: 'out_fp64' }],
      };
      const res = await echo.app.request('/v2/models/typed-echo/infer', binaryRequest(header, [f32([NaN, 3.5]), fp64]));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('null');
      const byName = new Map((JSON.parse(text) as InferJson).outputs.map((o) => [o.name, o.data]));
      expect(byName.get('out_fp32')).toEqual(['NaN', 3.5]);
      expect(byName.get('out_fp64')).toEqual(['Infinity', '-Infinity']);

      const binary = await echo.app.request('/v2/models/typed-echo/infer', binaryRequest({ ...header, parameters: { binary_data_output: true } }, [f32([NaN, 3.5]), fp64]));
      const { raw } = await readBinaryResponse(binary);
      expect(Number.isNaN(raw.readFloatLE(0))).toBe(true);
      expect(raw.readFloatLE(4)).toBe(3.5);
      expect(raw.readDoubleLE(8)).toBe(Infinity);
      expect(raw.readDoubleLE(16)).toBe(-Infinity);
    });
  });

  describe('model configuration', () => {
    it('describes the model in Triton\'s config form, from the model and its config.yaml', async () => {
      const res = await worker.app.request('/v2/models/seed-classifier/config');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        name: 'seed-classifier',
        platform: 'onnxruntime_onnx',
        backend: 'onnxruntime',
        version_policy: { specific: { versions: [1, 2] } },
        max_batch_size: 64,
        input: [{ name: 'features', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [2] }],
        output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [2], label_filename: 'labels.txt' }],
        dynamic_batching: { max_queue_delay_microseconds: 500, default_queue_policy: { max_queue_size: 1024 } },
        instance_group: [{ name: 'seed-classifier_0', kind: 'KIND_CPU', count: 1 }],
        parameters: { intra_op_thread_count: { string_value: '1' } },
      });
      expect((await worker.app.request('/v2/models/seed-classifier/versions/1/config')).status).toBe(200);
      const missing = await worker.app.request('/v2/models/seed-classifier/versions/9/config');
      expect(missing.status).toBe(404);
      expect((await worker.app.request('/v2/models/other/config')).status).toBe(404);
    });
  });

  describe('statistics', () => {
    it('counts successes, failures, queue and compute time per version, in Triton\'s shape', async () => {
      const stats = await startInProcessWorker({ repository, model: 'seed-classifier' });
      try {
        const path = '/v2/models/seed-classifier/versions/2/infer';
        for (let i = 0; i < 3; i++) expect((await postJson(stats.app, path, { inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [0, 0, 1, 1] }] })).status).toBe(200);
        expect((await postJson(stats.app, path, { inputs: [] })).status).toBe(400);
        const res = await stats.app.request('/v2/models/seed-classifier/versions/2/stats');
        expect(res.status).toBe(200);
        const { model_stats } = (await res.json()) as { model_stats: ModelStat[] };
        expect(model_stats).toHaveLength(1);
        const [v2] = model_stats;
        expect(v2).toMatchObject({ name: 'seed-classifier', version: '2', inference_count: 6, execution_count: 3 });
        expect(v2?.last_inference).toBeGreaterThan(Date.now() - 60_000);
        const s = v2?.inference_stats as ModelStat['inference_stats'];
        expect(s.success.count).toBe(3);
        expect(s.fail.count).toBe(1);
        for (const phase of ['queue', 'compute_input', 'compute_infer', 'compute_output'] as const) expect(s[phase].count, phase).toBe(3);
        expect(s.success.ns).toBeGreaterThan(0);
        expect(s.compute_infer.ns).toBeGreaterThan(0);
        expect(s.cache_hit).toEqual({ count: 0, ns: 0 });
        expect(v2?.batch_stats).toEqual([expect.objectContaining({ batch_size: 2, compute_infer: expect.objectContaining({ count: 3 }) })]);

        const all = (await (await stats.app.request('/v2/models/seed-classifier/stats')).json()) as { model_stats: Array<{ version: string; inference_count: number }> };
        expect(all.model_stats.map((m) => [m.version, m.inference_count])).toEqual([['1', 0], ['2', 6]]);
        expect((await stats.app.request('/v2/models/stats')).status).toBe(200);
      } finally {
        await stats.close();
      }
    });
  });

  describe('repository index', () => {
    it('lists the loaded versions and their state, filtered by "ready"', async () => {
      const res = await worker.app.request('/v2/repository/index', { method: 'POST' });
      expect(res.status).toBe(200);
      const expected = [{ name: 'seed-classifier', version: '1', state: 'READY', reason: '' }, { name: 'seed-classifier', version: '2', state: 'READY', reason: '' }];
      expect(await res.json()).toEqual(expected);
      expect(await (await postJson(worker.app, '/v2/repository/index', { ready: true })).json()).toEqual(expected);
    });

    it('answers for a named repository as for the unnamed one (there is one)', async () => {
      const unnamed = await (await worker.app.request('/v2/repository/index', { method: 'POST' })).json();
      const named = await worker.app.request('/v2/repository/models/index', { method: 'POST' });
      expect(named.status).toBe(200);
      expect(await named.json()).toEqual(unnamed);
    });

    it('refuses a malformed body with 400 and model load/unload with 400: the repository is read-only', async () => {
      expect((await postJson(worker.app, '/v2/repository/index', { ready: 'yes' })).status).toBe(400);
      expect((await postJson(worker.app, '/v2/repository/index', '{"ready":')).status).toBe(400);
      const load = await worker.app.request('/v2/repository/models/seed-classifier/load', { method: 'POST' });
      expect(load.status).toBe(400);
      expect(((await load.json()) as { error: string }).error).toMatch(/^model control is not supported/);
    });
  });
});
