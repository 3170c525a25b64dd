/**
 * Triton's HTTP extensions across real processes: a worker process serving
 * image-stats (payload-heavy) and seed-classifier, and a gateway process in
 * front of them. Written from the protocol documents: binary tensors in and
 * out, compression both ways, classification, model configuration,
 * statistics, repository index and unpinned metadata.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { freePort, startGatewayProcess, startWorkerProcess, type ServiceProcess, type WorkerProcess } from '@switchyard/fleet/worker-process';
import { imageStatsReference } from '@switchyard/model-worker/samples/image-stats';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { eventually } from '../src/eventually.ts';
import { binaryInferBody, fp32Bytes, fp32Values, splitBinaryResponse } from '../src/binary-tensors.ts';

const KEY = 'sy_e2e_triton_key';
const auth = { authorization: `Bearer ${KEY}` };
const ROWS = 2;
const pixels = Float32Array.from({ length: ROWS * 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37) * 3);
const imageHeader = (binaryOutputs: boolean) => ({
  inputs: [{ name: 'image', datatype: 'FP32', shape: [ROWS, 3, 64, 64], parameters: { binary_data_size: pixels.length * 4 } }],
  ...(binaryOutputs ? { parameters: { binary_data_output: true } } : {}),
});

interface InferJson { model_version: string; outputs: Array<{ name: string; shape: number[]; datatype: string; data: unknown[] }> }

/** POST with undici's request: bodies and codings arrive as sent (fetch would decode gzip itself). */
async function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const res = await request(url, { method: 'POST', body, headers });
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') flat[name] = value;
  return { status: res.statusCode, headers: flat, body: Buffer.from(await res.body.arrayBuffer()) };
}

function expectImageStats(outputs: Array<{ name: string; values: number[] }>): void {
  const reference = imageStatsReference(pixels, ROWS);
  for (const { name, values } of outputs) {
    const expected = reference[name as 'mean' | 'min' | 'max'];
    expect(values).toHaveLength(ROWS * 3);
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i] ?? NaN, 4));
  }
}

describe('Triton HTTP extensions across processes', () => {
  let dir: string;
  let images: WorkerProcess;
  let classifier: WorkerProcess;
  let gateway: ServiceProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-triton-e2e-'));
    const repository = join(dir, 'models');
    await writeSampleRepository(repository, { models: ['seed-classifier', 'image-stats'] });
    [images, classifier] = await Promise.all([
      startWorkerProcess({ model: 'image-stats', repository, env: { LOG_LEVEL: 'warn' } }),
      startWorkerProcess({ model: 'seed-classifier', repository, env: { LOG_LEVEL: 'warn' } }),
    ]);
    const configPath = join(dir, 'switchyard.yaml');
    await writeFile(configPath, stringify({
      version: 1,
      gateway: { health_interval_ms: 200, body_limit_bytes: 1024 * 1024 },
      auth: { api_keys: [{ id: 'e2e', sha256: createHash('sha256').update(KEY).digest('hex'), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
      models: {
        'image-stats': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [images.url] }] },
        'seed-classifier': {
          stable: 'v1',
          variants: [{ name: 'v1', version: 1, weight: 50, upstreams: [classifier.url] }, { name: 'v2', version: 2, weight: 50, upstreams: [classifier.url] }],
        },
      },
    }));
    gateway = await startGatewayProcess({ configPath, env: { LOG_LEVEL: 'warn', ADMIN_PORT: String(await freePort()) } });
    await eventually(async () => (await fetch(`${gateway.url}/v2/health/ready`)).status, (status) => status === 200);
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([images?.stop(), classifier?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  for (const target of ['worker', 'gateway'] as const) {
    describe(`through the ${target}`, () => {
      const base = () => (target === 'worker' ? images.url : gateway.url);
      const headers = () => (target === 'worker' ? {} : auth);

      it('answers binary image tensors with binary outputs matching the reference, and equal to the JSON answer', async () => {
        const { body, headers: framing } = binaryInferBody(imageHeader(true), [fp32Bytes(pixels)]);
        const res = await post(`${base()}/v2/models/image-stats/infer`, body, { ...headers(), ...framing });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('application/octet-stream');
        const { outputs } = splitBinaryResponse(res.body, Number(res.headers['inference-header-content-length']));
        expect(outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([['mean', 'FP32', [2, 3]], ['min', 'FP32', [2, 3]], ['max', 'FP32', [2, 3]]]);
        expectImageStats(outputs.map((o) => ({ name: o.name, values: fp32Values(o.raw ?? Buffer.alloc(0)) })));

        const json = await post(`${base()}/v2/models/image-stats/infer`, JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [ROWS, 3, 64, 64], data: Array.from(pixels) }] }), { ...headers(), 'content-type': 'application/json' });
        const answer = JSON.parse(json.body.toString()) as InferJson;
        expect(answer.outputs.map((o) => o.data)).toEqual(outputs.map((o) => fp32Values(o.raw ?? Buffer.alloc(0))));
      });

      it('takes a gzip-coded binary body, and gives a gzip answer from 1 KiB up to a client that accepts it', async () => {
        const { body, headers: framing } = binaryInferBody(imageHeader(false), [fp32Bytes(pixels)]);
        const small = await post(`${base()}/v2/models/image-stats/infer`, gzipSync(body), { ...headers(), ...framing, 'content-encoding': 'gzip', 'accept-encoding': 'gzip' });
        expect(small.status).toBe(200);
        // Two rows of statistics: under 1 KiB, sent as they are.
        expect(small.headers['content-encoding']).toBeUndefined();
        const answer = JSON.parse(small.body.toString()) as InferJson;
        expectImageStats(answer.outputs.map((o) => ({ name: o.name, values: o.data as number[] })));

        // The same two rows eight times over: 16 rows of statistics, past 1 KiB.
        const rows = ROWS * 8;
        const tiled = new Float32Array(rows * 3 * 64 * 64);
        for (let k = 0; k < 8; k++) tiled.set(pixels, k * pixels.length);
        const big = binaryInferBody({ inputs: [{ name: 'image', datatype: 'FP32', shape: [rows, 3, 64, 64], parameters: { binary_data_size: tiled.length * 4 } }] }, [fp32Bytes(tiled)]);
        const res = await post(`${base()}/v2/models/image-stats/infer`, gzipSync(big.body), { ...headers(), ...big.headers, 'content-encoding': 'gzip', 'accept-encoding': 'gzip' });
        expect(res.status).toBe(200);
        expect(res.headers['content-encoding']).toBe('gzip');
        const zipped = JSON.parse(gunzipSync(res.body).toString()) as InferJson;
        for (const output of zipped.outputs) {
          expect(output.shape).toEqual([rows, 3]);
          const first = answer.outputs.find((o) => o.name === output.name)?.data as number[];
          expect((output.data as number[]).slice(0, ROWS * 3)).toEqual(first);
          expect((output.data as number[]).slice(-ROWS * 3)).toEqual(first);
        }
      });

      it('refuses a header length past the body with 400 and a sizes mismatch with 400, as JSON errors', async () => {
        const { body, headers: framing } = binaryInferBody(imageHeader(false), [fp32Bytes(pixels.subarray(0, 100))]);
        const short = await post(`${base()}/v2/models/image-stats/infer`, body, { ...headers(), ...framing });
        expect(short.status).toBe(400);
        expect(JSON.parse(short.body.toString())).toEqual({ error: `input 'image': binary_data_size ${pixels.length * 4} at byte 0 of the binary part runs past its end (400 bytes)` });
        const past = await post(`${base()}/v2/models/image-stats/infer`, body, { ...headers(), ...framing, 'inference-header-content-length': String(body.length + 1) });
        expect(past.status).toBe(400);
        expect(JSON.parse(past.body.toString()).error).toMatch(/is past the end of the body/);
      });

      it('classifies with labels from labels.txt', async () => {
        const res = await post(`${target === 'worker' ? classifier.url : gateway.url}/v2/models/seed-classifier/versions/2/infer`, JSON.stringify({
          inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [0, 0, 0.95, 0.95] }],
          outputs: [{ name: 'probabilities', parameters: { classification: 1 } }],
        }), { ...headers(), 'content-type': 'application/json' });
        const answer = JSON.parse(res.body.toString()) as InferJson;
        expect(answer.outputs[0]).toMatchObject({ datatype: 'BYTES', shape: [2, 1] });
        expect((answer.outputs[0]?.data as string[]).map((s) => s.split(':').slice(1))).toEqual([['1', 'inside'], ['0', 'outside']]);
      });

      it('serves model configuration and statistics', async () => {
        const config = await fetch(`${base()}/v2/models/image-stats/config`, { headers: headers() });
        expect(await config.json()).toMatchObject({ name: 'image-stats', max_batch_size: 32, input: [{ name: 'image', data_type: 'TYPE_FP32', dims: [3, 64, 64] }] });
        const stats = (await (await fetch(`${base()}/v2/models/image-stats/stats`, { headers: headers() })).json()) as { model_stats: Array<{ version: string; inference_count: number; inference_stats: { success: { count: number } } }> };
        expect(stats.model_stats[0]?.version).toBe('1');
        expect(stats.model_stats[0]?.inference_stats.success.count).toBeGreaterThan(0);
      });
    });
  }

  it('lists the fleet in the gateway\'s repository index and routed versions in unpinned metadata', async () => {
    const index = await post(`${gateway.url}/v2/repository/index`, '{}', { ...auth, 'content-type': 'application/json' });
    expect(JSON.parse(index.body.toString())).toEqual([
      { name: 'image-stats', version: '1', state: 'READY', reason: '' },
      { name: 'seed-classifier', version: '1', state: 'READY', reason: '' },
      { name: 'seed-classifier', version: '2', state: 'READY', reason: '' },
    ]);
    const meta = await fetch(`${gateway.url}/v2/models/seed-classifier`, { headers: { ...auth, 'x-switchyard-user': 'someone' } });
    const body = (await meta.json()) as { versions: string[]; parameters: { routed_version: string; routed_variant: string } };
    expect(body.versions).toEqual(['1', '2']);
    expect(body.parameters.routed_variant).toBe(meta.headers.get('x-switchyard-variant'));
    expect(['1', '2']).toContain(body.parameters.routed_version);
  });

  it('refuses at the gateway, with 413, a small gzip body that inflates past the body limit', async () => {
    const res = await post(`${gateway.url}/v2/models/image-stats/infer`, gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20)), { ...auth, 'content-encoding': 'gzip', 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body.toString())).toEqual({ error: 'request body exceeds 1048576 bytes once decoded (Content-Encoding: gzip)' });
  });
});
