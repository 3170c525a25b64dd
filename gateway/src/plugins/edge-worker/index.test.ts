import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from '../../testing/gateway-harness.ts';

const KEY = 'sy_test_edge';
const AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const INFER = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });
const EXAMPLES = resolve(import.meta.dirname, '../../../../examples/edge');

/** Test modules, written to files and run in real Deno processes. */
const MODULES: Record<string, string> = {
  'echo.ts': `export default {
    async fetch(request, env, ctx) {
      console.log('echo served ' + ctx.requestId);
      return Response.json({ ctx, headers: [...request.headers.keys()], env: Object.keys(env), greeting: env.GREETING, body: await request.text() });
    },
  };`,
  'sandbox.ts': `async function attempt(f) {
    try { await f(); return 'allowed'; } catch (e) { return e?.name === 'TypeError' && /^Requires import access/.test(e.message) ? 'TypeError: Requires import access' : (e?.name ?? String(e)); }
  }
  export default {
    async fetch(request) {
      const { port } = await request.json();
      return Response.json({
        env: await attempt(() => Deno.env.get('HOME')),
        read: await attempt(() => Deno.readTextFile('/etc/hostname')),
        nodeFs: await attempt(async () => (await import('node:fs')).readFileSync('/etc/hostname')),
        write: await attempt(() => Deno.writeTextFile('/tmp/switchyard-edge-escape', 'x')),
        otherPort: await attempt(() => fetch('http://127.0.0.1:' + port + '/')),
        subprocess: await attempt(() => new Deno.Command('true').output()),
        ffi: await attempt(() => Deno.dlopen('libc.so.6', {})),
        listen: await attempt(() => Deno.listen({ hostname: '127.0.0.1', port: 0 }).close()),
        redis: await attempt(() => Deno.connect({ hostname: '127.0.0.1', port: 6379 })),
        // Hosts Deno would import from by default: a way out (a request per import) unless refused.
        remoteImport: await attempt(() => import(\`https://esm.sh/left-pad\`)),
        computedImport: await attempt(() => import('https://jsr.io/' + String(port))),
      });
    },
  };`,
  'busy.ts': `export default {
    async fetch(request) {
      if ((await request.text()) === 'spin') for (;;) {}
      return new Response('alive');
    },
  };`,
  'bomb.ts': `export default {
    async fetch(request) {
      if ((await request.text()) === 'bomb') { const hoard = []; for (;;) hoard.push(new Array(1e6).fill(Math.random())); }
      return new Response('alive');
    },
  };`,
  'crash.ts': `export default {
    fetch(request) {
      if (request.headers.get('x-crash') === '1') { setTimeout(() => { throw new Error('module crashed'); }, 0); return new Promise(() => {}); }
      return new Response('alive');
    },
  };`,
  'throws.ts': `export default { fetch() { throw new TypeError('bad input shape'); } };`,
  'tag-a.ts': `export default { async fetch(request, env, ctx) { const res = await env.MODEL.fetch(request); return Response.json({ worker: 'a', variant: ctx.variant, status: res.status }); } };`,
  'tag-b.ts': `export default { async fetch(request, env, ctx) { const res = await env.MODEL.fetch(request); return Response.json({ worker: 'b', variant: ctx.variant, status: res.status }); } };`,
  'other-model.ts': `export default { fetch(request, env) { return env.MODEL.fetch('http://model/v2/models/wide-mlp/infer', { method: 'POST', body: '{}' }); } };`,
  'pass.ts': `export default { fetch(request, env) { return env.MODEL.fetch(request); } };`,
};

describe('edge workers', () => {
  let dir: string;
  let repository: string;
  let worker: ServedWorker;
  let bystander: Server;
  let bystanderPort: number;
  let gw: TestGateway;

  function edgeConfig(workers: Record<string, Record<string, unknown>>, model: Record<string, unknown> = {}, variants?: unknown[]): unknown {
    return {
      version: 1,
      gateway: { circuit_breaker: { failures: 50, cooldown_ms: 1000 } },
      auth: { api_keys: [{ id: 'edge-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
      edge_workers: workers,
      routes: [{ path: '/predict', model: 'seed-classifier' }],
      models: {
        'seed-classifier': {
          stable: 'v1',
          variants: variants ?? [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }],
          ...model,
        },
      },
    };
  }

  const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    gw.app.request(path, { method: 'POST', headers: { ...AUTH, ...headers }, body });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-test-'));
    repository = join(dir, 'models');
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    for (const [name, text] of Object.entries(MODULES)) await writeFile(join(dir, name), text);
    worker = await serveWorker(repository, 'seed-classifier');
    bystander = createServer((_req, res) => res.end('reached'));
    await new Promise<void>((done) => bystander.listen(0, '127.0.0.1', done));
    bystanderPort = (bystander.address() as AddressInfo).port;
    const m = (file: string, extra: Record<string, unknown> = {}) => ({ module: join(dir, file), ...extra });
    const workers: Record<string, Record<string, unknown>> = {
      'seed-predict': { module: join(EXAMPLES, 'seed-predict.ts') },
      echo: m('echo.ts', { vars: { GREETING: 'hello' } }),
      sandbox: m('sandbox.ts'),
      busy: m('busy.ts', { timeout_ms: 500 }),
      bomb: m('bomb.ts', { memory_mb: 32, timeout_ms: 10_000 }),
      crash: m('crash.ts'),
      'crash-bypass': m('crash.ts', { failure: 'bypass' }),
      throws: m('throws.ts'),
      'other-model': m('other-model.ts'),
    };
    // One variant per test worker (weight 0), chosen with the override header; v1 takes the split.
    const variants = [
      { name: 'v1', version: 1, weight: 100, upstreams: [worker.url] },
      ...Object.keys(workers).filter((w) => w !== 'seed-predict').map((w) => ({ name: w, version: 1, weight: 0, upstreams: [worker.url], edge_worker: w })),
      // Nothing listens on the first upstream: the model binding's calls need the proxy's retries.
      { name: 'retried', version: 1, weight: 0, upstreams: ['http://127.0.0.1:9', worker.url], edge_worker: 'pass' },
    ];
    workers.pass = m('pass.ts');
    gw = await buildTestGateway(edgeConfig(workers, { edge_worker: 'seed-predict' }, variants));
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    bystander.closeAllConnections();
    await new Promise<void>((done) => bystander.close(() => done()));
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** An inference request routed (override header) to the variant fronted by edge worker `name`. */
  const via = (name: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
    post('/v2/models/seed-classifier/infer', body, { 'x-switchyard-variant': name, ...headers });

  it('serves POST /predict {"feature": "x,y"} with {"prediction": P(inside)} from seed-classifier', async () => {
    const inside = await post('/predict', JSON.stringify({ feature: '0.0,0.1' }));
    expect(inside.status).toBe(200);
    expect(inside.headers.get('x-switchyard-edge-worker')).toBe('seed-predict');
    expect(inside.headers.get('x-switchyard-variant')).toBe('v1');
    const p = ((await inside.json()) as { prediction: number }).prediction;
    expect(p).toBeGreaterThan(0.5);
    const outside = (await (await post('/predict', JSON.stringify({ feature: '1.0,2.0' }))).json()) as { prediction: number };
    expect(outside.prediction).toBeLessThan(0.5);
    expect(outside.prediction).toBeGreaterThanOrEqual(0);
  });

  it('answers the module\'s own 400 for a malformed feature and still requires a key', async () => {
    const bad = await post('/predict', JSON.stringify({ feature: 'one,two' }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: '"feature" must be two comma-separated numbers' });
    const anonymous = await gw.app.request('/predict', { method: 'POST', body: JSON.stringify({ feature: '0,0' }) });
    expect(anonymous.status).toBe(401);
  });

  it('gives the module ctx and its vars, and never the caller\'s credentials', async () => {
    const res = await via('echo', 'payload', { 'x-api-key': 'sy_secret', cookie: 'session=secret', 'proxy-authorization': 'Basic c2VjcmV0' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('secret');
    const seen = JSON.parse(text) as { ctx: unknown; headers: string[]; env: string[]; greeting: string; body: string };
    expect(seen.ctx).toEqual({ requestId: res.headers.get('x-request-id'), model: 'seed-classifier', variant: 'echo', subject: 'edge-test', tenant: 'acme' });
    for (const header of ['authorization', 'x-api-key', 'cookie', 'proxy-authorization', 'x-switchyard-edge-ctx', 'x-switchyard-edge-call']) expect(seen.headers).not.toContain(header);
    expect(seen.headers).toContain('x-switchyard-variant');
    expect(seen.env.sort()).toEqual(['GREETING', 'MODEL']);
    expect(seen.greeting).toBe('hello');
    expect(seen.body).toBe('payload');
    // What the module prints is logged with the worker's name.
    const line = `echo served ${res.headers.get('x-request-id')}`;
    await vi.waitFor(() => expect(gw.logs.lines.some((l) => l.line === line)).toBe(true), { timeout: 2000, interval: 10 });
    expect(gw.logs.lines.find((l) => l.line === line)).toMatchObject({ msg: 'edge worker output', edge_worker: 'echo', stream: 'stdout' });
  });

  it("sends env.MODEL calls through the gateway's upstream machinery: a dead upstream of the variant does not fail them", async () => {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });
    // The proxy skips an upstream known to be down and retries one that refuses the connection.
    for (let i = 0; i < 2; i++) {
      const res = await via('retried', body);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-switchyard-edge-worker')).toBe('pass');
      expect(((await res.json()) as { outputs: Array<{ shape: number[] }> }).outputs[0]?.shape).toEqual([1, 2]);
    }
  });

  it('refuses the module env, files, writes, other ports and Redis, subprocesses, FFI, listening elsewhere and remote imports', async () => {
    const res = await via('sandbox', JSON.stringify({ port: bystanderPort }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      env: 'NotCapable', read: 'NotCapable', nodeFs: 'NotCapable', write: 'NotCapable', otherPort: 'NotCapable', subprocess: 'NotCapable', ffi: 'NotCapable', listen: 'NotCapable',
      redis: 'NotCapable', remoteImport: 'TypeError: Requires import access', computedImport: 'TypeError: Requires import access',
    });
  });

  it('kills a busy loop at its timeout with a 504, and the next request is served by a fresh process', async () => {
    const before = gw.gateway.edge.get('busy')?.process;
    const pid = before?.pid;
    const spun = await via('busy', 'spin');
    expect(spun.status).toBe(504);
    expect(await spun.json()).toEqual({ error: "edge worker 'busy' did not answer within 500 ms" });
    const next = await via('busy', 'hello');
    expect(next.status).toBe(200);
    expect(await next.text()).toBe('alive');
    expect(before?.restarts).toBe(1);
    expect(before?.pid).not.toBe(pid);
    expect(gw.logs.lines.find((l) => l.msg === 'edge worker exited; restarting' && l.edge_worker === 'busy')).toMatchObject({ level: 'warn', signal: 'SIGKILL' });
  });

  it('restarts a worker whose memory bomb hits its heap limit (502), then serves again', async () => {
    const bombed = await via('bomb', 'bomb');
    expect(bombed.status).toBe(502);
    expect(((await bombed.json()) as { error: string }).error).toMatch(/^edge worker 'bomb' failed mid-request/);
    const next = await via('bomb', 'hello');
    expect(await next.text()).toBe('alive');
    expect(gw.gateway.edge.get('bomb')?.process.restarts).toBe(1);
  });

  it('answers 502 when a module crashes under the fail policy, and restarts it', async () => {
    const crashed = await via('crash', INFER, { 'x-crash': '1' });
    expect(crashed.status).toBe(502);
    expect(((await crashed.json()) as { error: string }).error).toMatch(/^edge worker 'crash' failed mid-request/);
    expect(await (await via('crash', INFER)).text()).toBe('alive');
  });

  it('sends the original request to the model when a module crashes under the bypass policy', async () => {
    const res = await via('crash-bypass', INFER, { 'x-crash': '1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-edge-worker')).toBe('crash-bypass; bypassed=crash');
    expect(((await res.json()) as { outputs: Array<{ name: string }> }).outputs[0]?.name).toBe('probabilities');
  });

  it('answers 502 naming the exception a module threw', async () => {
    const res = await via('throws', INFER);
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: "edge worker 'throws' threw: TypeError: bad input shape" });
  });

  it('lets env.MODEL call only the routed model', async () => {
    const res = await via('other-model', INFER);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "env.MODEL calls only the routed model 'seed-classifier', not 'wide-mlp'" });
  });

  it('counts requests per edge worker and outcome in /metrics', async () => {
    const text = await (await gw.app.request('/metrics')).text();
    expect(text).toMatch(/switchyard_edge_worker_requests_total\{worker="busy",outcome="timeout"\} 1/);
    expect(text).toMatch(/switchyard_edge_worker_restarts_total\{worker="busy"\} 1/);
    expect(text).toMatch(/switchyard_edge_worker_requests_total\{worker="seed-predict",outcome="ok"\} [1-9]/);
  });
});

describe('per-variant edge workers', () => {
  it('splits each edge worker with the variant it feeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-split-'));
    const repository = join(dir, 'models');
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    for (const name of ['tag-a.ts', 'tag-b.ts']) await writeFile(join(dir, name), MODULES[name] as string);
    const worker = await serveWorker(repository, 'seed-classifier');
    const gw = await buildTestGateway({
      version: 1,
      auth: { api_keys: [{ id: 'edge-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*'] }] },
      edge_workers: { a: { module: join(dir, 'tag-a.ts') }, b: { module: join(dir, 'tag-b.ts') } },
      models: {
        'seed-classifier': {
          stable: 'v1',
          edge_worker: 'a',
          variants: [
            { name: 'v1', version: 1, weight: 50, upstreams: [worker.url] },
            { name: 'v2', version: 2, weight: 50, upstreams: [worker.url], edge_worker: 'b' },
          ],
        },
      },
    });
    try {
      const seen = new Set<string>();
      for (let user = 0; user < 40; user++) {
        const res = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...AUTH, 'x-switchyard-user': `user-${user}` }, body: INFER });
        const answer = (await res.json()) as { worker: string; variant: string; status: number };
        expect(answer.status).toBe(200);
        expect(answer.variant).toBe(res.headers.get('x-switchyard-variant'));
        expect(answer.worker).toBe(answer.variant === 'v1' ? 'a' : 'b');
        seen.add(answer.worker);
      }
      expect([...seen].sort()).toEqual(['a', 'b']);
    } finally {
      await gw.close();
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('edge worker start-up', () => {
  it('refuses to build a gateway whose edge module does not start, naming the worker and the error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-broken-'));
    await writeFile(join(dir, 'broken.ts'), 'export default { fetch( { syntax error');
    try {
      await expect(
        buildTestGateway({
          version: 1,
          edge_workers: { broken: { module: join(dir, 'broken.ts') } },
          models: { m: { stable: 'v1', edge_worker: 'broken', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: ['http://127.0.0.1:9'] }] } },
        }),
      ).rejects.toThrow(/edge worker 'broken' exited \(code 1\) before it was ready: .*broken\.ts/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
