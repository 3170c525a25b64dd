import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { edgeEntrySource, edgeHostArgs } from '@switchyard/fleet-config/edge-host';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from '../testing/gateway-harness.ts';
import { EDGE_CONTEXT_HEADER } from './contract.ts';
import { freeLoopbackPort } from './edge-process.ts';
import { EDGE_HOST_URL, installedDeno } from './edge-workers.ts';

const KEY = 'sy_test_edge_endpoint';
const AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const SEED_PREDICT = resolve(import.meta.dirname, '../../../examples/edge/seed-predict.ts');

/** Starts a host the way a gateway pod's sidecar runs it: settings in its last argument, nothing on stdin. */
async function startSidecar(entry: string, port: number, bindingPort: number): Promise<ChildProcess> {
  const args = edgeHostArgs({
    listen: `127.0.0.1:${port}`, binding: `127.0.0.1:${bindingPort}`, spec: { allow_net: [], memory_mb: 64 }, entry,
    settings: { port, binding: `http://127.0.0.1:${bindingPort}`, vars: {} },
  });
  const child = spawn(installedDeno(), args, { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
  const [line] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => { throw new Error('sidecar exited before it was ready'); })])) as [Buffer];
  expect(line.toString()).toContain('ready');
  return child;
}

describe('edge workers at an endpoint (a sidecar the gateway does not start)', () => {
  let dir: string;
  let worker: ServedWorker;
  let sidecar: ChildProcess;
  let sidecarPort: number;
  let bindingPort: number;
  let gw: TestGateway;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-endpoint-'));
    await writeSampleRepository(join(dir, 'models'), { models: ['seed-classifier'] });
    worker = await serveWorker(join(dir, 'models'), 'seed-classifier');
    const entry = join(dir, 'entry.ts');
    await writeFile(entry, edgeEntrySource(pathToFileURL(SEED_PREDICT).href, EDGE_HOST_URL.href));
    [sidecarPort, bindingPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    sidecar = await startSidecar(entry, sidecarPort, bindingPort);
    gw = await buildTestGateway({
      version: 1,
      gateway: { edge_binding_port: bindingPort },
      auth: { api_keys: [{ id: 'edge', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*'] }] },
      edge_workers: { 'seed-predict': { module: '/etc/switchyard/edge/module.ts', endpoint: `127.0.0.1:${sidecarPort}` }, gone: { module: '/nowhere.ts', endpoint: `127.0.0.1:${await freeLoopbackPort()}` } },
      routes: [{ path: '/predict', model: 'seed-classifier', edge_worker: 'seed-predict' }, { path: '/gone', model: 'seed-classifier', edge_worker: 'gone' }],
      models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
    if (sidecar && sidecar.exitCode === null) {
      sidecar.kill('SIGKILL');
      await once(sidecar, 'exit');
    }
    await worker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /predict through the running host and its model binding, without starting a process of its own', async () => {
    const res = await gw.app.request('/predict', { method: 'POST', headers: AUTH, body: JSON.stringify({ feature: '0.1,0.2' }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-edge-worker')).toBe('seed-predict');
    const { prediction } = (await res.json()) as { prediction: number };
    expect(prediction).toBeGreaterThan(0.5);
    const status = gw.gateway.edge.status().find((w) => w.name === 'seed-predict');
    expect(status).toMatchObject({ endpoint: `127.0.0.1:${sidecarPort}`, pid: null, restarts: 0 });
  });

  it('answers 502 naming the worker when nothing listens at its endpoint', async () => {
    const res = await gw.app.request('/gone', { method: 'POST', headers: AUTH, body: '{}' });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toMatch(/edge worker 'gone' is not reachable \(ECONNREFUSED\)/);
  });

  it('lets the host answer its probe itself, and refuses other requests that do not come from the gateway', async () => {
    const health = await fetch(`http://127.0.0.1:${sidecarPort}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const stranger = await fetch(`http://127.0.0.1:${sidecarPort}/predict`, { method: 'POST', body: '{"feature": "1,2"}' });
    expect(stranger.status).toBe(404);
    // With the context but without the binding token, the module's call back into the gateway is refused.
    const forged = await fetch(`http://127.0.0.1:${sidecarPort}/predict`, { method: 'POST', headers: { [EDGE_CONTEXT_HEADER]: JSON.stringify({ requestId: 'r', model: 'seed-classifier', variant: 'v1', subject: 's', tenant: 't' }) }, body: '{"feature": "1,2"}' });
    expect(forged.status).toBe(401);
  });

  it('serves the model binding on the port the config names, and the sidecar keeps running with nothing on its stdin', async () => {
    const res = await fetch(`http://127.0.0.1:${bindingPort}/v2/models/seed-classifier/infer`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(sidecar.exitCode).toBeNull();
    expect(sidecar.signalCode).toBeNull();
  });
});
