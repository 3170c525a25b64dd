import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RolloutStateSchema } from '../flags/rollout-state.ts';
import { judge } from '../rollout/rollout-controller.ts';
import { withNodeBindings } from '@switchyard/observability/node-bindings';
import { startPlan } from '../rollout/rollout-operations.ts';
import { startFrozenUpstream } from '../testing/frozen-upstream.ts';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from '../testing/gateway-harness.ts';

const KEY = 'sy_test_client_closed';

/** Waits until `check` holds (an observable condition, not a fixed sleep). */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  await vi.waitFor(async () => {
    if (!(await check())) throw new Error('condition not met');
  }, { timeout: 5000, interval: 25 });
}

describe('a client that goes away', () => {
  let repository: string;
  let worker: ServedWorker;
  let gw: TestGateway;
  let server: ServerType;
  let port: number;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-abort-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    worker = await serveWorker(repository, 'seed-classifier');
    gw = await buildTestGateway({
      version: 1,
      auth: { api_keys: [{ id: 'abort-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
      models: {
        'seed-classifier': {
          stable: 'v1',
          variants: [
            { name: 'v1', version: 1, weight: 90, upstreams: [worker.url] },
            { name: 'v2', version: 2, weight: 10, upstreams: [worker.url] },
          ],
        },
      },
    });
    // The real Node adapter over a real socket: the abort comes from the HTTP parser, as in production.
    ({ server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
      const s = serve({ fetch: withNodeBindings(gw.app.fetch), port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: s, port: info.port }));
    }));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gw.close();
    await worker.stop();
    await rm(repository, { recursive: true, force: true });
  });

  it('mid-upload is counted and logged as 499, never a 500, and never held against the candidate', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    // Declares 1000 bytes, sends 11, then closes the connection.
    socket.write(
      'POST /v2/models/seed-classifier/infer HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n' +
        `authorization: Bearer ${KEY}\r\nx-switchyard-variant: v2\r\ncontent-length: 1000\r\n\r\n{"inputs": `,
    );
    socket.destroy();
    await until(() => gw.logs.lines.some((l) => l.msg === 'client closed request'));

    expect(gw.logs.lines.find((l) => l.msg === 'client closed request')).toMatchObject({ level: 'info', status: 499, model: 'seed-classifier', variant: 'v2' });
    expect(gw.logs.lines.filter((l) => l.msg === 'unhandled error' || l.level === 'error')).toEqual([]);
    const metrics = await (await gw.app.request('/metrics')).text();
    expect(metrics).toMatch(/switchyard_gateway_requests_total\{model="seed-classifier",variant="v2",status="499"\} 1/);
    expect(metrics).not.toMatch(/status="500"/);
    // The candidate served nothing, so nothing counts against it: a guard with the lowest bar holds.
    expect(gw.stats.summary('seed-classifier', 'v2', 0).requests).toBe(0);
    const state = startPlan(RolloutStateSchema.parse({ stable: 'v1', candidate: 'v2', weights: { v1: 90, v2: 10 } }), 'v2', { guards: { min_requests: 1 } }, 0);
    expect(judge('seed-classifier', state, gw.stats, 1)).toEqual({ action: 'hold' });
  });

  it('times the variant from the upstream call, so a slow upload is not its latency', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const answered = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('"model_name"')) resolve(text);
      });
    });
    const started = performance.now();
    socket.write(
      'POST /v2/models/seed-classifier/infer HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n' +
        `authorization: Bearer ${KEY}\r\nx-switchyard-variant: v2\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    // The slow upload is the fault under test: the rest of the body comes half a second later.
    await new Promise((r) => setTimeout(r, 500));
    socket.write(body.slice(10));
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);
    const uploadMs = performance.now() - started;
    socket.destroy();
    const summary = gw.stats.summary('seed-classifier', 'v2', 0);
    expect(summary.requests).toBe(1);
    // Relative, not a timing bound: the recorded latency excludes the upload's wait.
    expect(summary.p99Ms).toBeLessThan(uploadMs - 400);
  });

  it('while waiting for the upstream is counted as 499, not as the upstream\'s 504', async () => {
    const frozen = await startFrozenUpstream();
    const g = await buildTestGateway({
      version: 1,
      gateway: { response_timeout_ms: 600, attempt_timeout_ms: 300 },
      auth: { api_keys: [{ id: 'abort-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
      models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [frozen.url] }] } },
    });
    const s = await new Promise<{ server: ServerType; port: number }>((resolve) => {
      const srv = serve({ fetch: withNodeBindings(g.app.fetch), port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: srv, port: info.port }));
    });
    const body = '{"inputs": []}';
    const socket = connect(s.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /v2/models/seed-classifier/infer HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n' +
        `authorization: Bearer ${KEY}\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    await until(() => frozen.received() === 1);
    socket.destroy();
    await until(() => g.logs.lines.some((l) => l.msg === 'client closed request'));
    const metrics = await (await g.app.request('/metrics')).text();
    expect(metrics).toMatch(/switchyard_gateway_requests_total\{model="seed-classifier",variant="v1",status="499"\} 1/);
    expect(metrics).not.toMatch(/switchyard_gateway_requests_total\{[^}]*status="5\d\d"/);
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    await g.close();
    await frozen.close();
  });
});
