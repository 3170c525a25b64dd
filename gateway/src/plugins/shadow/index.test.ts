import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildTestGateway, serveWorker, sha256, type ServedWorker } from '../../testing/gateway-harness.ts';

const KEY = 'sy_test_shadow';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

describe('shadow', () => {
  let repository: string;
  let worker: ServedWorker;
  let broken: Server;
  let brokenUrl: string;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-shadow-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    worker = await serveWorker(repository, 'seed-classifier');
    // Healthy to the health checker, failing every inference.
    broken = createServer((req, res) => {
      res.statusCode = req.url === '/v2/health/ready' ? 200 : 500;
      res.end(req.url === '/v2/health/ready' ? '' : '{"error":"boom"}');
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    broken.closeAllConnections();
    await new Promise<void>((resolve) => broken.close(() => resolve()));
    await worker.stop();
    await rm(repository, { recursive: true, force: true });
  });

  it('counts and logs a failed copy with its reason, and the client still gets the primary answer', async () => {
    const gw = await buildTestGateway({
      version: 1,
      auth: { api_keys: [{ id: 'shadow-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*'] }] },
      models: {
        'seed-classifier': {
          stable: 'v1',
          variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }, { name: 'v2', version: 2, weight: 0, upstreams: [brokenUrl] }],
          shadow: { variant: 'v2', percent: 100 },
        },
      },
    });
    const res = await gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: BODY });
    expect(res.status).toBe(200);
    const failed = await vi.waitFor(() => {
      const line = gw.logs.lines.find((l) => l.msg === 'shadow copy failed');
      if (!line) throw new Error('no failed shadow copy logged yet');
      return line;
    }, { timeout: 2000, interval: 10 });
    expect(failed).toMatchObject({ level: 'warn', model: 'seed-classifier', variant: 'v2', upstream: brokenUrl, reason: 'shadow variant answered 500' });
    expect(await (await gw.app.request('/metrics')).text()).toMatch(/switchyard_gateway_shadow_requests_total\{model="seed-classifier",variant="v2",outcome="error"\} 1/);
    await gw.close();
  });
});
