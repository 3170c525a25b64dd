import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { captureLogs } from '@switchyard/model-worker/testing/worker-harness';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { createGateway, type Gateway } from '../create-gateway.ts';
import { serveWorker, sha256, type ServedWorker } from '../testing/gateway-harness.ts';

const KEY = 'sy_test_edge_reload';
const MODULE = `export default {
  async fetch(request, env) {
    const res = await env.MODEL.fetch(request);
    return Response.json({ generation: env.GENERATION, status: res.status });
  },
};`;

describe('edge worker reload', () => {
  let dir: string;
  let worker: ServedWorker;
  let gateway: Gateway;
  const configPath = () => join(dir, 'switchyard.yaml');

  async function writeConfig(generation: string): Promise<void> {
    await writeFile(configPath(), stringify({
      version: 1,
      auth: { api_keys: [{ id: 'reload', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*'] }] },
      edge_workers: { tagger: { module: 'tagger.ts', vars: { GENERATION: generation } } },
      models: { 'seed-classifier': { stable: 'v1', edge_worker: 'tagger', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
    }));
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-reload-'));
    await writeSampleRepository(join(dir, 'models'), { models: ['seed-classifier'] });
    await writeFile(join(dir, 'tagger.ts'), MODULE);
    worker = await serveWorker(join(dir, 'models'), 'seed-classifier');
    await writeConfig('old');
    gateway = await createGateway({
      config: await loadFleetConfig(configPath()),
      logger: captureLogs('gateway').logger,
      serviceVersion: 'test',
      reload: { path: configPath(), complete: (config) => Promise.resolve(config) },
    });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts the new process, switches traffic to it and retires the old one without failing a request under load', async () => {
    const oldProcess = gateway.edge.get('tagger')?.process;
    const oldPid = oldProcess?.pid;
    const answers: Array<{ status: number; generation: string }> = [];
    let sawNew = false;
    let reloaded = false;
    const client = async () => {
      // Until the reload is applied and the new generation has answered.
      while (!(reloaded && sawNew)) {
        const res = await gateway.fetch(new Request('http://gateway.test/v2/models/seed-classifier/infer', {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] }),
        }));
        const body = res.status === 200 ? ((await res.json()) as { generation: string }) : { generation: `error ${res.status}: ${await res.text()}` };
        answers.push({ status: res.status, generation: body.generation });
        if (body.generation === 'new') sawNew = true;
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, client));
    // Reload once traffic flows through the old process.
    await vi.waitFor(() => expect(answers.length).toBeGreaterThanOrEqual(20), { timeout: 30_000, interval: 5 });
    await writeConfig('new');
    expect(await gateway.reload('test')).toBe(true);
    reloaded = true;
    await load;

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(answers.map((a) => a.generation))).toEqual(new Set(['old', 'new']));
    // Once the switch happened, no request went to the old process.
    const firstNew = answers.findIndex((a) => a.generation === 'new');
    const lateOld = answers.slice(firstNew).filter((a) => a.generation === 'old').length;
    expect(lateOld).toBeLessThanOrEqual(8); // at most the requests already in flight at the switch
    expect(gateway.edge.get('tagger')?.process.pid).not.toBe(oldPid);
    expect(oldProcess?.pid).toBeUndefined();
  }, 60_000);
});
