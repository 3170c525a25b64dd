import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from '../testing/gateway-harness.ts';

const KEY = 'sy_test_edge_inline';
const AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const SEED_PREDICT = resolve(import.meta.dirname, '../../../examples/edge/seed-predict.ts');

/** Modules run inline, i.e. inside this test's own process. */
const MODULES: Record<string, string> = {
  'echo.mjs': `export default {
    async fetch(request, env, ctx) {
      return Response.json({ ctx, headers: [...request.headers.keys()], greeting: env.GREETING, body: await request.text(),
        // Not isolated: the gateway's own process, with its environment and no Deno sandbox.
        deno: typeof Deno, pid: process.pid });
    },
  };`,
  'stuck.mjs': `export default { async fetch(request) { if ((await request.text()) === 'hang') await new Promise(() => {}); return new Response('alive'); } };`,
  'throws.mjs': `export default { fetch() { throw new TypeError('bad input shape'); } };`,
  'no-fetch.mjs': `export default { handle() {} };`,
  'coding.mjs': `export default {
    async fetch(request, env) {
      const asked = request.headers.get('x-ask-encoding');
      const res = await env.MODEL.fetch('http://model/v2/models/seed-classifier/infer', {
        method: 'POST', headers: { 'content-type': 'application/json', ...(asked ? { 'accept-encoding': asked } : {}) }, body: await request.text(),
      });
      return Response.json({ status: res.status, encoding: res.headers.get('content-encoding'), outputs: (await res.json()).outputs.length });
    },
  };`,
};

describe('inline edge workers (trusted code and tests: the gateway\'s own process, not isolated)', () => {
  let dir: string;
  let worker: ServedWorker;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-inline-'));
    await writeSampleRepository(join(dir, 'models'), { models: ['seed-classifier'] });
    for (const [name, text] of Object.entries(MODULES)) await writeFile(join(dir, name), text);
    worker = await serveWorker(join(dir, 'models'), 'seed-classifier');
    const inline = (module: string, extra: Record<string, unknown> = {}) => ({ module, isolation: 'inline', ...extra });
    const variants = ['echo', 'stuck', 'throws', 'coding'].map((w) => ({ name: w, version: 1, weight: 0, upstreams: [worker.url], edge_worker: w }));
    gw = await buildTestGateway({
      version: 1,
      gateway: { circuit_breaker: { failures: 50, cooldown_ms: 1000 } },
      auth: { api_keys: [{ id: 'inline', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
      edge_workers: {
        'seed-predict': inline(SEED_PREDICT),
        echo: inline(join(dir, 'echo.mjs'), { vars: { GREETING: 'hello' } }),
        stuck: inline(join(dir, 'stuck.mjs'), { timeout_ms: 300 }),
        throws: inline(join(dir, 'throws.mjs')),
        coding: inline(join(dir, 'coding.mjs')),
      },
      routes: [{ path: '/predict', model: 'seed-classifier', edge_worker: 'seed-predict' }],
      models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }, ...variants] } },
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const via = (variant: string, body: string) => gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...AUTH, 'x-switchyard-variant': variant }, body });

  it('serves /predict through the model binding, as a module in a Deno host would', async () => {
    const res = await gw.app.request('/predict', { method: 'POST', headers: AUTH, body: JSON.stringify({ feature: '0.1,0.2' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-edge-worker')).toBe('seed-predict');
    expect(((await res.json()) as { prediction: number }).prediction).toBeGreaterThan(0.5);
    expect(gw.gateway.edge.status().find((w) => w.name === 'seed-predict')).toMatchObject({ isolation: 'inline', pid: null, endpoint: null });
  });

  it('gives the module the same request, ctx and vars (no credentials), and runs it in the gateway\'s process', async () => {
    const res = await via('echo', 'payload');
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { ctx: Record<string, string>; headers: string[]; greeting: string; body: string; deno: string; pid: number };
    expect(answer.ctx).toMatchObject({ model: 'seed-classifier', variant: 'echo', subject: 'inline', tenant: 'acme' });
    expect(answer.headers).not.toContain('authorization');
    expect(answer.headers.filter((h) => h.startsWith('x-switchyard-edge'))).toEqual([]);
    expect([answer.greeting, answer.body]).toEqual(['hello', 'payload']);
    expect([answer.deno, answer.pid]).toEqual(['undefined', process.pid]);
  });

  it('asks the model binding for an uncompressed answer unless the module asks for a coding itself', async () => {
    // 64 rows: an answer well past the worker's 1 KiB compression threshold.
    const rows = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [64, 2], data: Array.from({ length: 128 }, (_, i) => Math.sin(i)) }] });
    const plain = await via('coding', rows);
    expect(await plain.json()).toEqual({ status: 200, encoding: null, outputs: 1 });
    const asked = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...AUTH, 'x-switchyard-variant': 'coding', 'x-ask-encoding': 'gzip' }, body: rows });
    expect(await asked.json()).toEqual({ status: 200, encoding: 'gzip', outputs: 1 });
  });

  it('answers 504 when a module overruns its timeout, and serves the next request', async () => {
    const stuck = await via('stuck', 'hang');
    expect(stuck.status).toBe(504);
    expect(((await stuck.json()) as { error: string }).error).toMatch(/edge worker 'stuck' did not answer within 300 ms/);
    const next = await via('stuck', 'fine');
    expect([next.status, await next.text()]).toEqual([200, 'alive']);
  });

  it('answers 502 naming the exception a module threw', async () => {
    const res = await via('throws', '{}');
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/edge worker 'throws' threw: TypeError: bad input shape/);
  });

  it('refuses a module without a default fetch at start-up', async () => {
    await expect(buildTestGateway({
      version: 1,
      edge_workers: { broken: { module: join(dir, 'no-fetch.mjs'), isolation: 'inline' } },
      models: { m: { stable: 'v1', edge_worker: 'broken', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: ['http://127.0.0.1:9'] }] } },
    })).rejects.toThrow(/edge worker 'broken' \(inline\): .*no-fetch\.mjs has no default export with fetch/);
  });

  it('opens a worker\'s circuit breaker after repeated failures: then 502 without calling the module, or the model itself under bypass', async () => {
    const variants = ['fail', 'skip'].map((name) => ({ name, version: 1, weight: 0, upstreams: [worker.url], edge_worker: name }));
    const tripping = await buildTestGateway({
      version: 1,
      gateway: { circuit_breaker: { failures: 2, cooldown_ms: 600_000 } },
      auth: { api_keys: [{ id: 'inline', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
      edge_workers: {
        fail: { module: join(dir, 'throws.mjs'), isolation: 'inline' },
        skip: { module: join(dir, 'throws.mjs'), isolation: 'inline', failure: 'bypass' },
      },
      models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }, ...variants] } },
    });
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });
    const call = (variant: string) => tripping.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...AUTH, 'x-switchyard-variant': variant }, body });
    try {
      for (const variant of ['fail', 'skip']) {
        for (let i = 0; i < 2; i++) await call(variant);
        expect(tripping.gateway.edge.status().find((w) => w.name === variant)?.breaker).toBe('open');
      }
      const refused = await call('fail');
      expect(refused.status).toBe(502);
      expect(await refused.json()).toEqual({ error: "edge worker 'fail' is unavailable (circuit open after repeated failures)" });
      const bypassed = await call('skip');
      expect(bypassed.status).toBe(200);
      expect(bypassed.headers.get('x-switchyard-edge-worker')).toBe('skip; bypassed=circuit_open');
      const metrics = await (await tripping.app.request('/metrics')).text();
      expect(metrics).toMatch(/switchyard_edge_worker_requests_total\{worker="fail",outcome="exception"\} 2/);
      expect(metrics).toMatch(/switchyard_edge_worker_requests_total\{worker="fail",outcome="circuit_open"\} 1/);
      expect(metrics).toMatch(/switchyard_edge_worker_requests_total\{worker="skip",outcome="circuit_open"\} 1/);
    } finally {
      await tripping.close();
    }
  });
});
