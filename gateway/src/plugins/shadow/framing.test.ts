import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { Hono } from 'hono';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRoute, VariantRoute } from '../../routing/fleet-topology.ts';
import { serveWorker, type ServedWorker } from '../../testing/gateway-harness.ts';
import { UpstreamRegistry } from '../../upstream/upstream-pool.ts';
import { shadow, type ShadowOutcome } from './index.ts';

describe('shadow plugin: request and answer framing', () => {
  let repository: string;
  let primary: ServedWorker;
  let candidate: ServedWorker;
  let registry: UpstreamRegistry;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-shadow-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    [primary, candidate] = await Promise.all([serveWorker(repository, 'seed-classifier'), serveWorker(repository, 'seed-classifier')]);
    registry = new UpstreamRegistry({ connectTimeoutMs: 1000, breakerFailures: 3, breakerCooldownMs: 1000 });
  });
  afterAll(async () => {
    await registry.close();
    await Promise.all([primary.stop(), candidate.stop()]);
    await rm(repository, { recursive: true, force: true });
  });

  /** An app that answers from the primary worker (version 2) and shadows every request to the candidate (version 2 too: they must agree). */
  function shadowedApp(onOutcome: (outcome: ShadowOutcome) => void): Hono {
    const v1: VariantRoute = { name: 'v1', version: 2, upstreams: [registry.get(primary.url)] };
    const v2: VariantRoute = { name: 'v2', version: 2, upstreams: [registry.get(candidate.url)] };
    const model: ModelRoute = { name: 'seed-classifier', stable: 'v1', variants: new Map([['v1', v1], ['v2', v2]]), shadow: { variant: 'v2', percent: 100 } };
    const app = new Hono();
    app.post('/infer', async (c, next) => {
      c.set('route', { model, variant: v1, reason: 'override' });
      const body = new Uint8Array(await c.req.arrayBuffer());
      c.set('requestBody', body);
      await next();
    }, shadow({ pathFor: (_, version) => `/v2/models/seed-classifier/versions/${version}/infer`, random: () => 0, observer: { shadowed: (_m, _v, outcome) => onOutcome(outcome) } }), async (c) => {
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'inference-header-content-length', 'accept-encoding']) {
        const value = c.req.header(name);
        if (value !== undefined) headers[name] = value;
      }
      // undici's request, as the proxy uses: the answer arrives as the worker coded it (fetch would decode it).
      const res = await request(`${primary.url}/v2/models/seed-classifier/versions/2/infer`, { method: 'POST', headers, body: c.get('requestBody') });
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
      return new Response(new Uint8Array(await res.body.arrayBuffer()), { status: res.statusCode, headers: responseHeaders });
    });
    return app;
  }

  async function outcomeOf(init: RequestInit): Promise<ShadowOutcome> {
    let settle: (outcome: ShadowOutcome) => void = () => undefined;
    const outcome = new Promise<ShadowOutcome>((resolve) => (settle = resolve));
    const res = await shadowedApp(settle).request('/infer', { method: 'POST', ...init });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    return outcome;
  }

  it('compares binary-tensor answers: the copy carries the body framing and both answers are read', async () => {
    const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }], parameters: { binary_data_output: true } }));
    const data = Buffer.alloc(8);
    data.writeFloatLE(0.9, 0);
    data.writeFloatLE(0.9, 4);
    const outcome = await outcomeOf({ headers: { 'inference-header-content-length': String(head.length) }, body: Buffer.concat([head, data]) });
    expect(outcome).toBe('agree');
  });

  it('compares a gzip-coded JSON primary answer with the shadow\'s plain one', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [Math.sin(i), Math.cos(i)]);
    const outcome = await outcomeOf({
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [40, 2], data: rows }] }),
    });
    expect(outcome).toBe('agree');
  });
});
