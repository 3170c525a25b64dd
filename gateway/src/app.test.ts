import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from './testing/gateway-harness.ts';

const KEY = 'sy_test_full_access';
const LIMITED_KEY = 'sy_test_wide_only';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

function infer(gw: TestGateway, path = '/v2/models/seed-classifier/infer', headers: Record<string, string> = {}, body = BODY): Promise<Response> {
  return Promise.resolve(gw.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers }, body }));
}

function fleet(ports: { v1: number[]; v2: number[] }, extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    gateway: { response_timeout_ms: 2000, circuit_breaker: { failures: 2, cooldown_ms: 60_000 } },
    auth: {
      api_keys: [
        { id: 'full', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] },
        { id: 'wide', sha256: sha256(LIMITED_KEY), tenant: 'acme', scopes: ['infer:wide-mlp'] },
      ],
    },
    models: {
      'seed-classifier': {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: 50, upstreams: ports.v1.map((p) => `http://127.0.0.1:${p}`) },
          { name: 'v2', version: 2, weight: 50, upstreams: ports.v2.map((p) => `http://127.0.0.1:${p}`) },
        ],
        ...extra,
      },
    },
  };
}

describe('gateway', () => {
  let repository: string;
  let workers: ServedWorker[];
  let gw: TestGateway;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-gw-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    workers = await Promise.all([serveWorker(repository, 'seed-classifier'), serveWorker(repository, 'seed-classifier')]);
    gw = await buildTestGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }));
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(workers.map((w) => w.stop()));
    await rm(repository, { recursive: true, force: true });
  });

  describe('routing', () => {
    it('forwards to the chosen variant\'s version and says which variant served', async () => {
      const res = await infer(gw, undefined, { 'x-switchyard-user': 'alice', 'x-request-id': 'abc-1' });
      expect(res.status).toBe(200);
      const variant = res.headers.get('x-switchyard-variant');
      expect(['v1', 'v2']).toContain(variant);
      expect(res.headers.get('x-request-id')).toBe('abc-1');
      const body = (await res.json()) as { model_version: string };
      expect(body.model_version).toBe(variant === 'v1' ? '1' : '2');
    });

    it('keeps a user on one variant and spreads users by weight', async () => {
      const seen = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        const user = `user-${i % 40}`;
        const variant = (await infer(gw, undefined, { 'x-switchyard-user': user })).headers.get('x-switchyard-variant') ?? '';
        if (seen.has(user)) expect(variant).toBe(seen.get(user));
        seen.set(user, variant);
      }
      const v2 = [...seen.values()].filter((v) => v === 'v2').length;
      expect(v2).toBeGreaterThan(5);
      expect(v2).toBeLessThan(35);
    });

    it('serves a pinned version from the versions path, and 404s versions no variant serves', async () => {
      const res = await infer(gw, '/v2/models/seed-classifier/versions/2/infer');
      expect(res.headers.get('x-switchyard-variant')).toBe('v2');
      expect(((await res.json()) as { model_version: string }).model_version).toBe('2');
      const missing = await infer(gw, '/v2/models/seed-classifier/versions/9/infer');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: "model 'seed-classifier' has no variant serving version '9'" });
    });

    it('honours the variant override header only with the override scope', async () => {
      const res = await infer(gw, undefined, { 'x-switchyard-variant': 'v2', 'x-switchyard-user': 'u-override' });
      expect(res.headers.get('x-switchyard-variant')).toBe('v2');
      const unknown = await infer(gw, undefined, { 'x-switchyard-variant': 'v9' });
      expect(unknown.status).toBe(400);
    });

    it('proxies metadata and the v1 predict form', async () => {
      const meta = await gw.app.request('/v2/models/seed-classifier/versions/1', { headers: { authorization: `Bearer ${KEY}` } });
      expect(meta.status).toBe(200);
      expect(await meta.json()).toMatchObject({ name: 'seed-classifier', versions: ['1'] });
      const predict = await infer(gw, '/v1/models/seed-classifier:predict', {}, JSON.stringify({ instances: [[0, 0]] }));
      expect(predict.status).toBe(200);
      expect(((await predict.json()) as { predictions: unknown[] }).predictions).toHaveLength(1);
    });

    it('passes worker errors through unchanged', async () => {
      const res = await infer(gw, undefined, {}, JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: "input 'features': expected shape [-1, 2], got [1, 3] (dim 1 must be 2)" });
    });
  });

  describe('access', () => {
    it('refuses missing and wrong credentials with 401, and models outside the scopes with 403', async () => {
      const none = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', body: BODY });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await infer(gw, undefined, { authorization: 'Bearer nope' })).status).toBe(401);
      const scoped = await infer(gw, undefined, { authorization: `Bearer ${LIMITED_KEY}` });
      expect(scoped.status).toBe(403);
      const override = await infer(gw, undefined, { authorization: `Bearer ${LIMITED_KEY}`, 'x-switchyard-variant': 'v2' });
      expect(override.status).toBe(403);
    });

    it('keeps health and metrics open', async () => {
      expect((await gw.app.request('/v2/health/live')).status).toBe(200);
      expect((await gw.app.request('/v2/health/ready')).status).toBe(200);
      expect((await gw.app.request('/metrics')).status).toBe(200);
    });

    it('answers unknown models with 404 and oversized bodies with 413', async () => {
      expect((await infer(gw, '/v2/models/nope/infer')).status).toBe(404);
      const small = await buildTestGateway({ ...fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }), gateway: { body_limit_bytes: 1024 } });
      const res = await infer(small, undefined, {}, JSON.stringify({ pad: 'x'.repeat(4096) }));
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'request body exceeds 1024 bytes' });
      await small.close();
    });
  });

  describe('failover', () => {
    it('retries another replica when one refuses connections', async () => {
      const extra = await serveWorker(repository, 'seed-classifier');
      const dead = await serveWorker(repository, 'seed-classifier');
      const g = await buildTestGateway(fleet({ v1: [dead.port, extra.port], v2: [dead.port] }));
      await dead.stop();
      const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => infer(g, '/v2/models/seed-classifier/versions/1/infer', { 'x-switchyard-user': `f${i}` }).then((r) => r.status)));
      expect(statuses).toEqual(Array(10).fill(200));
      const metrics = await (await g.app.request('/metrics')).text();
      expect(metrics).toMatch(/switchyard_gateway_upstream_attempts_total\{model="seed-classifier",variant="v1",outcome="retry"\} [1-9]/);
      await g.close();
      await extra.stop();
    });

    it('falls back to the stable variant when no replica of the chosen one answers', async () => {
      const dead = await serveWorker(repository, 'seed-classifier');
      const g = await buildTestGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [dead.port] }));
      await dead.stop();
      const res = await infer(g, undefined, { 'x-switchyard-variant': 'v1' });
      expect(res.status).toBe(200);
      // Every user lands somewhere healthy; candidate users are served by the stable variant.
      for (let i = 0; i < 30; i++) {
        const r = await infer(g, undefined, { 'x-switchyard-user': `fallback-${i}` });
        expect(r.status).toBe(200);
        expect(r.headers.get('x-switchyard-variant')).toBe('v1');
      }
      await g.close();
    });

    it('answers 503 with a clear message when nothing healthy remains; the model is unready, the gateway stays ready', async () => {
      const dead = await serveWorker(repository, 'seed-classifier');
      const g = await buildTestGateway(fleet({ v1: [dead.port], v2: [dead.port] }));
      await dead.stop();
      const res = await infer(g);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/^no healthy upstream for model 'seed-classifier'/);
      await g.health.checkAll();
      const modelReady = await g.app.request('/v2/models/seed-classifier/ready', { headers: { authorization: `Bearer ${KEY}` } });
      expect(modelReady.status).toBe(503);
      expect(((await modelReady.json()) as { error: string }).error).toMatch(/^no healthy upstream for model 'seed-classifier'/);
      const ready = await g.app.request('/v2/health/ready');
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, unreachable_models: ['seed-classifier'] });
      await g.close();
    });

    it('answers 504 when the upstream does not respond in time', async () => {
      const silent: Server = createServer((req) => {
        if (req.url === '/v2/health/ready') req.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const port = (silent.address() as AddressInfo).port;
      const g = await buildTestGateway({ ...fleet({ v1: [port], v2: [port] }), gateway: { response_timeout_ms: 200 } });
      const res = await infer(g);
      expect(res.status).toBe(504);
      expect(((await res.json()) as { error: string }).error).toMatch(/did not answer within 200 ms/);
      await g.close();
      silent.closeAllConnections();
      silent.close();
    });
  });

  describe('shadow', () => {
    it('copies traffic to the shadow variant without changing the answer, and records agreement', async () => {
      const g = await buildTestGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }, { shadow: { variant: 'v2', percent: 100 } }));
      const direct = await infer(g, '/v2/models/seed-classifier/versions/1/infer');
      const res = await infer(g, undefined, { 'x-switchyard-variant': 'v1' });
      expect(await res.text()).toBe(await direct.text());
      let metrics = '';
      const agreement = /switchyard_gateway_shadow_requests_total\{model="seed-classifier",variant="v2",outcome="(agree|disagree)"\} [1-9]/;
      for (let i = 0; i < 500 && !agreement.test(metrics); i++) {
        await new Promise((r) => setTimeout(r, 20));
        metrics = await (await g.app.request('/metrics')).text();
      }
      expect(metrics).toMatch(agreement);
      await g.close();
    });
  });
});
