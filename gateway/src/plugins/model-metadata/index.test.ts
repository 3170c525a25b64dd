import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { modelMetadata } from './index.ts';
import type { ModelRoute, VariantRoute } from '../../routing/fleet-topology.ts';
import { buildTestGateway, serveWorker, sha256, type ServedWorker } from '../../testing/gateway-harness.ts';

const KEY = 'sy_test_metadata';

function fleet(v1: string, v2: string) {
  return {
    version: 1,
    auth: { api_keys: [{ id: 'k', sha256: sha256(KEY), tenant: 't', scopes: ['infer:*', 'variant:override'] }] },
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

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Metadata { name: string; versions: string[]; platform: string; inputs: unknown[]; outputs: unknown[]; parameters: Record<string, unknown> }

describe('model metadata through the gateway', () => {
  let repository: string;
  let workers: ServedWorker[];

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-metadata-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    workers = await Promise.all([serveWorker(repository, 'seed-classifier'), serveWorker(repository, 'seed-classifier')]);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await rm(repository, { recursive: true, force: true });
  });

  it('lists every reachable version across variants and names the version this caller is routed to', async () => {
    const gw = await buildTestGateway(fleet(workers[0]?.url ?? '', workers[1]?.url ?? ''));
    try {
      const routedTo = new Set<string>();
      for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) {
        const res = await gw.app.request('/v2/models/seed-classifier', { headers: { authorization: `Bearer ${KEY}`, 'x-switchyard-user': user } });
        expect(res.status).toBe(200);
        const body = (await res.json()) as Metadata;
        expect(body).toMatchObject({ name: 'seed-classifier', versions: ['1', '2'], platform: 'onnxruntime_onnx' });
        expect(body.inputs).toEqual([{ name: 'features', datatype: 'FP32', shape: [-1, 2] }]);
        const variant = res.headers.get('x-switchyard-variant');
        expect(body.parameters).toMatchObject({ routed_variant: variant, routed_version: variant === 'v1' ? '1' : '2', max_batch_size: 64 });
        routedTo.add(String(body.parameters.routed_version));
      }
      expect([...routedTo].sort()).toEqual(['1', '2']);
      // A pinned version still describes only that version.
      const pinned = (await (await gw.app.request('/v2/models/seed-classifier/versions/2', { headers: { authorization: `Bearer ${KEY}` } })).json()) as Metadata;
      expect(pinned.versions).toEqual(['2']);
    } finally {
      await gw.close();
    }
  });

  it('leaves out the versions of variants whose replicas are down', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const gw = await buildTestGateway(fleet(workers[0]?.url ?? '', down));
    try {
      const res = await gw.app.request('/v2/models/seed-classifier', { headers: { authorization: `Bearer ${KEY}`, 'x-switchyard-variant': 'v1' } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Metadata).versions).toEqual(['1']);
    } finally {
      await gw.close();
    }
  });

  it('reads a gzip-coded answer from the worker and returns it decoded', async () => {
    // v1 has no replica, so only the routed version is reachable.
    const v1: VariantRoute = { name: 'v1', version: 1, upstreams: [] };
    const v3: VariantRoute = { name: 'v3', version: 3, upstreams: [] };
    const model: ModelRoute = { name: 'm', stable: 'v1', variants: new Map([['v1', v1], ['v3', v3]]) };
    const app = new Hono();
    app.use(async (c, next) => {
      c.set('route', { model, variant: v3, reason: 'split' });
      await next();
    });
    app.get('/v2/models/m', modelMetadata(), () => new Response(gzipSync(JSON.stringify({ name: 'm', versions: ['3'], platform: 'onnxruntime_onnx', inputs: [], outputs: [] })), {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    }));
    const res = await app.request('/v2/models/m');
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.json()).toEqual({ name: 'm', versions: ['3'], platform: 'onnxruntime_onnx', inputs: [], outputs: [], parameters: { routed_version: '3', routed_variant: 'v3' } });
  });

  it('passes an answer that is not a metadata object through unchanged', async () => {
    const v1: VariantRoute = { name: 'v1', version: 1, upstreams: [] };
    const model: ModelRoute = { name: 'm', stable: 'v1', variants: new Map([['v1', v1]]) };
    const app = new Hono();
    app.use(async (c, next) => {
      c.set('route', { model, variant: v1, reason: 'split' });
      await next();
    });
    app.get('/v2/models/m', modelMetadata(), () => new Response('not json', { headers: { 'content-type': 'text/plain' } }));
    const res = await app.request('/v2/models/m');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('not json');
  });
});
