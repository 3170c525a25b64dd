/**
 * Triton's HTTP extensions through the gateway, against real workers on
 * real sockets: binary tensor bodies forwarded byte for byte, compressed
 * bodies (limit on the decoded size), model configuration, statistics and
 * repository index behind auth and scopes, and unpinned model metadata.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_EXTENSIONS } from './app.ts';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from './testing/gateway-harness.ts';

const KEY = 'sy_test_triton_full';
const OTHER_KEY = 'sy_test_triton_other_model';
const auth = { authorization: `Bearer ${KEY}` };

function fleet(v1: string, v2: string) {
  return {
    version: 1,
    gateway: { body_limit_bytes: 64 * 1024, response_timeout_ms: 5000 },
    auth: {
      api_keys: [
        { id: 'full', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] },
        { id: 'other', sha256: sha256(OTHER_KEY), tenant: 'acme', scopes: ['infer:wide-mlp'] },
      ],
    },
    models: {
      'seed-classifier': {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: 50, upstreams: [v1] },
          { name: 'v2', version: 2, weight: 50, upstreams: [v2] },
        ],
      },
    },
  };
}

/** A binary-extension body: JSON header, then four FP32 values (two rows). */
function binaryBody(outputsBinary: boolean): { body: Buffer; headerLength: number } {
  const header = Buffer.from(JSON.stringify({
    inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }],
    ...(outputsBinary ? { parameters: { binary_data_output: true } } : {}),
  }));
  const data = Buffer.alloc(16);
  [0.1, 0.2, 0.9, -0.9].forEach((v, i) => data.writeFloatLE(v, i * 4));
  return { body: Buffer.concat([header, data]), headerLength: header.length };
}

describe('gateway: Triton HTTP extensions', () => {
  let repository: string;
  let workers: ServedWorker[];
  let gw: TestGateway;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-gw-triton-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    workers = await Promise.all([serveWorker(repository, 'seed-classifier'), serveWorker(repository, 'seed-classifier')]);
    gw = await buildTestGateway(fleet(workers[0]?.url ?? '', workers[1]?.url ?? ''));
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(workers.map((w) => w.stop()));
    await rm(repository, { recursive: true, force: true });
  });

  it('lists the extensions it serves in server metadata', async () => {
    expect(await (await gw.app.request('/v2')).json()).toMatchObject({ name: 'switchyard-gateway', extensions: [...SUPPORTED_EXTENSIONS] });
  });

  describe('binary tensor data', () => {
    it('forwards binary bodies as sent and returns the worker\'s binary answer byte for byte, with its header length', async () => {
      const { body, headerLength } = binaryBody(true);
      const headers = { 'inference-header-content-length': String(headerLength), 'content-type': 'application/octet-stream' };
      const through = await gw.app.request('/v2/models/seed-classifier/versions/2/infer', { method: 'POST', headers: { ...auth, ...headers }, body });
      expect(through.status).toBe(200);
      const direct = await fetch(`${workers[1]?.url}/v2/models/seed-classifier/versions/2/infer`, { method: 'POST', headers, body });
      expect(through.headers.get('content-type')).toBe('application/octet-stream');
      expect(through.headers.get('inference-header-content-length')).toBe(direct.headers.get('inference-header-content-length'));
      expect(Buffer.from(await through.arrayBuffer()).equals(Buffer.from(await direct.arrayBuffer()))).toBe(true);
    });

    it('passes the worker\'s 400 for a header length past the body through unchanged', async () => {
      const { body } = binaryBody(false);
      const res = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...auth, 'inference-header-content-length': '9999' }, body });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: `Inference-Header-Content-Length 9999 is past the end of the body (${body.length} bytes)` });
    });
  });

  describe('compression', () => {
    const json = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.5, 0.5] }] });

    it('forwards a gzip request body for the worker to decode, and passes a compressed answer back', async () => {
      const res = await gw.app.request('/v2/models/seed-classifier/infer', {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(json),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { outputs: unknown[] }).outputs).toHaveLength(1);
      const rows = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [64, 2], data: Array.from({ length: 128 }, (_, i) => Math.sin(i)) }] });
      const zipped = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'accept-encoding': 'gzip' }, body: rows });
      expect(zipped.headers.get('content-encoding')).toBe('gzip');
      expect(JSON.parse(gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString())).toMatchObject({ model_name: 'seed-classifier' });
    });

    it('refuses with 413 a small gzip body that inflates past the body limit, and 415 an unknown coding', async () => {
      const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
      expect(bomb.length).toBeLessThan(64 * 1024);
      const res = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...auth, 'content-encoding': 'gzip' }, body: bomb });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'request body exceeds 65536 bytes once decoded (Content-Encoding: gzip)' });
      const br = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...auth, 'content-encoding': 'br' }, body: json });
      expect(br.status).toBe(415);
      const corrupt = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...auth, 'content-encoding': 'deflate' }, body: 'plain text' });
      expect(corrupt.status).toBe(400);
      expect(((await corrupt.json()) as { error: string }).error).toMatch(/^request body is not valid deflate data/);
    });
  });

  describe('model configuration and statistics', () => {
    it('answers config for the pinned version and for the routed variant, under auth and scopes', async () => {
      const pinned = await gw.app.request('/v2/models/seed-classifier/versions/1/config', { headers: auth });
      expect(pinned.status).toBe(200);
      expect(pinned.headers.get('x-switchyard-variant')).toBe('v1');
      expect(await pinned.json()).toMatchObject({ name: 'seed-classifier', platform: 'onnxruntime_onnx', max_batch_size: 64 });
      const routed = await gw.app.request('/v2/models/seed-classifier/config', { headers: { ...auth, 'x-switchyard-variant': 'v2' } });
      expect(routed.headers.get('x-switchyard-variant')).toBe('v2');
      expect((await gw.app.request('/v2/models/seed-classifier/config')).status).toBe(401);
      const other = await gw.app.request('/v2/models/seed-classifier/config', { headers: { authorization: `Bearer ${OTHER_KEY}` } });
      expect(other.status).toBe(403);
      expect((await gw.app.request('/v2/models/nothing/config', { headers: auth })).status).toBe(404);
    });

    it('answers statistics of the routed variant\'s version', async () => {
      await gw.app.request('/v2/models/seed-classifier/versions/2/infer', {
        method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0, 0] }] }),
      });
      const res = await gw.app.request('/v2/models/seed-classifier/stats', { headers: { ...auth, 'x-switchyard-variant': 'v2' } });
      expect(res.status).toBe(200);
      const { model_stats } = (await res.json()) as { model_stats: Array<{ name: string; version: string; inference_stats: { success: { count: number } } }> };
      expect(model_stats.map((m) => m.version)).toEqual(['2']);
      expect(model_stats[0]?.inference_stats.success.count).toBeGreaterThan(0);
      expect((await gw.app.request('/v2/models/seed-classifier/versions/2/stats')).status).toBe(401);
    });
  });

  describe('statistics of every model', () => {
    it('refuses GET /v2/models/stats with a 400 that says to ask per model (after authentication), instead of routing to a model named "stats"', async () => {
      const res = await gw.app.request('/v2/models/stats', { headers: auth });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'statistics of every model are not served through the gateway: ask for one model, GET /v2/models/{model}/stats (gRPC: ModelStatistics with a name)' });
      expect((await gw.app.request('/v2/models/stats')).status).toBe(401);
      expect((await gw.app.request('/v2/models/seed-classifier/stats', { headers: auth })).status).toBe(200);
    });
  });

  describe('repository index', () => {
    it('lists the versions the fleet serves, only for models the caller may call, and refuses load/unload', async () => {
      const res = await gw.app.request('/v2/repository/index', { method: 'POST', headers: auth });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual([
        { name: 'seed-classifier', version: '1', state: 'READY', reason: '' },
        { name: 'seed-classifier', version: '2', state: 'READY', reason: '' },
      ]);
      const scoped = await gw.app.request('/v2/repository/index', { method: 'POST', headers: { authorization: `Bearer ${OTHER_KEY}` }, body: '{"ready":true}' });
      expect(await scoped.json()).toEqual([]);
      expect((await gw.app.request('/v2/repository/index', { method: 'POST' })).status).toBe(401);
      expect((await gw.app.request('/v2/repository/index', { method: 'POST', headers: auth, body: '{"ready":1}' })).status).toBe(400);
      // A repository name (Triton's `/v2/repository/{name}/index`, gRPC's repository_name): the same one repository.
      expect(await (await gw.app.request('/v2/repository/models/index', { method: 'POST', headers: auth })).json()).toEqual(await (await gw.app.request('/v2/repository/index', { method: 'POST', headers: auth })).json());
      expect((await gw.app.request('/v2/repository/any-name/index', { method: 'POST' })).status).toBe(401);
      const load = await gw.app.request('/v2/repository/models/seed-classifier/load', { method: 'POST', headers: auth });
      expect(load.status).toBe(400);
      expect(((await load.json()) as { error: string }).error).toMatch(/^model control is not supported/);
    });
  });
});
