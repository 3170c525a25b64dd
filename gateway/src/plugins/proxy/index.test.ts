import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFrozenUpstream, type FrozenUpstream } from '../../testing/frozen-upstream.ts';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from '../../testing/gateway-harness.ts';

const KEY = 'sy_test_proxy';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

function infer(gw: TestGateway, path = '/v2/models/seed-classifier/infer', headers: Record<string, string> = {}, body = BODY): Promise<Response> {
  return Promise.resolve(gw.app.request(path, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers }, body }));
}

/** v1 (stable) and v2 with the given replica URLs; `v2Weight` percent of users go to v2. */
function fleet(v1: string[], v2: string[], { v2Weight = 50, gateway = {} }: { v2Weight?: number; gateway?: Record<string, unknown> } = {}) {
  return {
    version: 1,
    gateway: { response_timeout_ms: 20_000, attempt_timeout_ms: 250, circuit_breaker: { failures: 100, cooldown_ms: 60_000 }, ...gateway },
    auth: { api_keys: [{ id: 'proxy-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
    models: {
      'seed-classifier': {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: 100 - v2Weight, upstreams: v1 },
          { name: 'v2', version: 2, weight: v2Weight, upstreams: v2 },
        ],
      },
    },
  };
}

async function metricsText(gw: TestGateway): Promise<string> {
  return (await gw.app.request('/metrics')).text();
}

describe('proxy', () => {
  let repository: string;
  let worker: ServedWorker;
  let frozen: FrozenUpstream;
  let frozen2: FrozenUpstream;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-proxy-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    [worker, frozen, frozen2] = await Promise.all([serveWorker(repository, 'seed-classifier'), startFrozenUpstream(), startFrozenUpstream()]);
  });
  afterAll(async () => {
    await Promise.all([worker.stop(), frozen.close(), frozen2.close()]);
    await rm(repository, { recursive: true, force: true });
  });

  describe('per-attempt timeout', () => {
    it('moves a request from a replica that accepts and never answers to the next replica', async () => {
      const gw = await buildTestGateway(fleet([frozen.url, worker.url], [worker.url]));
      const before = frozen.received();
      // Round robin starts on each replica in turn, so some of these go to the frozen one first.
      const statuses = await Promise.all(Array.from({ length: 4 }, () => infer(gw, '/v2/models/seed-classifier/versions/1/infer').then((r) => r.status)));
      expect(statuses).toEqual([200, 200, 200, 200]);
      expect(frozen.received() - before).toBeGreaterThan(0);
      expect(await metricsText(gw)).toMatch(/switchyard_gateway_upstream_attempts_total\{model="seed-classifier",variant="v1",outcome="timeout"\} [1-9]/);
      // A timed-out attempt is the variant's failure, for the guards and the breaker.
      expect(gw.stats.summary('seed-classifier', 'v1', 0)).toMatchObject({ requests: 4 + (frozen.received() - before) });
      expect(gw.stats.summary('seed-classifier', 'v1', 0).successRate).toBeLessThan(1);
      await gw.close();
    });

    it('falls back to the stable variant when the split candidate\'s only replica is frozen', async () => {
      const gw = await buildTestGateway(fleet([worker.url], [frozen.url], { v2Weight: 100 }));
      const res = await infer(gw, undefined, { 'x-switchyard-user': 'frozen-candidate' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-switchyard-variant')).toBe('v1');
      expect(((await res.json()) as { model_version: string }).model_version).toBe('1');
      expect(gw.stats.summary('seed-classifier', 'v2', 0)).toMatchObject({ requests: 1, successRate: 0 });
      await gw.close();
    });

    it('answers 504 naming every attempt when no replica answers within the deadline', async () => {
      const gw = await buildTestGateway(fleet([frozen.url], [frozen2.url], { v2Weight: 100, gateway: { response_timeout_ms: 2000, attempt_timeout_ms: 200 } }));
      const res = await infer(gw, undefined, { 'x-switchyard-user': 'all-frozen' });
      expect(res.status).toBe(504);
      const { error } = (await res.json()) as { error: string };
      expect(error).toBe(`model 'seed-classifier' (variant 'v2') did not answer within 2000 ms; tried ${frozen2.url} (no answer within 200 ms), ${frozen.url} (no answer within 200 ms)`);
      await gw.close();
    });

    it('counts timeouts toward the circuit breaker', async () => {
      const gw = await buildTestGateway(fleet([frozen.url, worker.url], [worker.url], { gateway: { circuit_breaker: { failures: 1, cooldown_ms: 60_000 } } }));
      for (let i = 0; i < 2; i++) expect((await infer(gw, '/v2/models/seed-classifier/versions/1/infer')).status).toBe(200);
      expect(await metricsText(gw)).toMatch(new RegExp(`switchyard_gateway_circuit_breaker_state\\{[^}]*upstream="${frozen.url}"[^}]*\\} 2`));
      await gw.close();
    });
  });

  describe('passive health', () => {
    it('reports a replica the proxy could not reach through the same path as the health checker: metric and log', async () => {
      const dead = await serveWorker(repository, 'seed-classifier');
      const gw = await buildTestGateway(fleet([dead.url, worker.url], [worker.url]));
      await dead.stop();
      const statuses = await Promise.all(Array.from({ length: 2 }, () => infer(gw, '/v2/models/seed-classifier/versions/1/infer').then((r) => r.status)));
      expect(statuses).toEqual([200, 200]);
      const changes = gw.logs.lines.filter((l) => l.msg === 'upstream health changed' && l.upstream === dead.url);
      expect(changes).toEqual([
        expect.objectContaining({ healthy: true, source: 'health_check' }),
        expect.objectContaining({ healthy: false, source: 'proxy', reason: 'ECONNREFUSED', level: 'warn' }),
      ]);
      expect(await metricsText(gw)).toMatch(new RegExp(`switchyard_gateway_upstream_healthy\\{[^}]*upstream="${dead.url}"[^}]*\\} 0`));
      // The health checker then agrees: no second report of the same change.
      await gw.health.checkAll();
      expect(gw.logs.lines.filter((l) => l.msg === 'upstream health changed' && l.upstream === dead.url)).toHaveLength(2);
      await gw.close();
    });
  });

  describe('what a variant is judged by', () => {
    it('records upstream answers, client errors included, as the variant\'s outcomes, and gateway refusals not at all', async () => {
      const gw = await buildTestGateway(fleet([worker.url], [worker.url]));
      const bad = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
      expect((await infer(gw, undefined, { 'x-switchyard-variant': 'v2' }, bad)).status).toBe(400);
      expect((await infer(gw, undefined, { 'x-switchyard-variant': 'v2' })).status).toBe(200);
      expect((await infer(gw, undefined, { 'x-switchyard-variant': 'v2', authorization: 'Bearer wrong' })).status).toBe(401);
      expect(gw.stats.summary('seed-classifier', 'v2', 0)).toMatchObject({ requests: 2, successRate: 1, subjects: 1 });
      await gw.close();
    });
  });
});
