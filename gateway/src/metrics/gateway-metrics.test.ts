import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestGateway, sha256, type TestGateway } from '../testing/gateway-harness.ts';

const KEY = 'sy_metrics_test_key';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

/** A stand-in worker: version 1 answers 200 (400 for a body saying `bad`), version 2 answers 500; health is always ready. */
function standIn(): Promise<Server> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const status = req.url?.includes('/versions/2/') ? 500 : body.includes('bad') ? 400 : 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? '{"outputs":[]}' : '{"error":"x"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function config(port: number) {
  const upstream = `http://127.0.0.1:${port}`;
  return {
    version: 1,
    auth: { api_keys: [{ id: 'k', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] }] },
    rate_limits: { policies: [{ name: 'per-tenant', per: 'tenant', rate: 1000, burst: 1000 }] },
    models: {
      'seed-classifier': {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: 70, upstreams: [upstream] },
          { name: 'v2', version: 2, weight: 30, upstreams: [upstream] },
        ],
        shadow: { variant: 'v2', percent: 0 },
      },
    },
  };
}

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('gateway metrics', () => {
  let upstream: Server;
  let gw: TestGateway;
  const metrics = async (): Promise<string> => (await gw.app.request('/metrics')).text();
  const post = (path: string, headers: Record<string, string> = {}, body = BODY) =>
    Promise.resolve(gw.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }));
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    upstream = await standIn();
    gw = await buildTestGateway(config((upstream.address() as AddressInfo).port));
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((r) => upstream.close(r));
  });

  it('starts every counter of a configured label set at zero, so the first event shows in increase()', async () => {
    const text = await metrics();
    for (const variant of ['v1', 'v2']) {
      for (const outcome of ['success', 'client_error', 'server_error']) {
        expect(value(text, `switchyard_gateway_variant_requests_total{model="seed-classifier",variant="${variant}",outcome="${outcome}"}`)).toBe(0);
      }
      for (const outcome of ['ok', 'retry', 'timeout']) {
        expect(value(text, `switchyard_gateway_upstream_attempts_total{model="seed-classifier",variant="${variant}",outcome="${outcome}"}`)).toBe(0);
      }
    }
    for (const action of ['advance', 'promote', 'rollback']) expect(value(text, `switchyard_gateway_rollout_decisions_total{model="seed-classifier",action="${action}"}`)).toBe(0);
    for (const outcome of ['allowed', 'limited', 'store_failed']) expect(value(text, `switchyard_gateway_rate_limit_decisions_total{policy="per-tenant",outcome="${outcome}"}`)).toBe(0);
    for (const outcome of ['agree', 'disagree', 'error']) expect(value(text, `switchyard_gateway_shadow_requests_total{model="seed-classifier",variant="v2",outcome="${outcome}"}`)).toBe(0);
    expect(text).toMatch(/^switchyard_gateway_circuit_breaker_state\{upstream="http:\/\/127\.0\.0\.1:\d+",model="seed-classifier",variant="v[12]"\} 0$/m);
    expect(value(text, 'switchyard_gateway_upstreams_available{model="seed-classifier",variant="v1"}')).toBe(1);
    expect(value(text, 'switchyard_gateway_variant_info{model="seed-classifier",variant="v1",role="stable"}')).toBe(1);
  });

  it('takes label values only from configured names: unauthenticated probes and unknown models create no series', async () => {
    const probes = ['/v2/models/probe-a/infer', '/v2/models/x%2F..%2Fetc/infer', '/v1/models/probe-b:predict', '/v2/models/probe-c/versions/7/infer'];
    for (const path of probes) expect((await post(path)).status).toBe(401);
    expect((await gw.app.request('/v2/models/probe-d/ready')).status).toBe(401);
    expect((await post('/v2/models/no-such-model/infer', auth)).status).toBe(404);
    const text = await metrics();
    expect(text).not.toMatch(/probe|etc|no-such-model/);
    expect(value(text, 'switchyard_gateway_requests_total{model="unknown",variant="none",status="401"}')).toBe(5);
    expect(value(text, 'switchyard_gateway_requests_total{model="unknown",variant="none",status="404"}')).toBe(1);
    const names = new Set([...text.matchAll(/model="([^"]*)"/g)].map((m) => m[1]));
    expect(names).toEqual(new Set(['seed-classifier', 'unknown']));
  });

  it('counts what each variant answered; times only inference successes and server errors', async () => {
    const before = await metrics();
    const series = (variant: string, outcome: string) => `switchyard_gateway_variant_requests_total{model="seed-classifier",variant="${variant}",outcome="${outcome}"}`;
    const timed = (variant: string) => `switchyard_gateway_variant_request_duration_seconds_count{model="seed-classifier",variant="${variant}"}`;
    expect((await post('/v2/models/seed-classifier/infer', { ...auth, 'x-switchyard-variant': 'v1' })).status).toBe(200);
    expect((await post('/v2/models/seed-classifier/infer', { ...auth, 'x-switchyard-variant': 'v1' }, '{"bad":1}')).status).toBe(400);
    expect((await post('/v2/models/seed-classifier/infer', { ...auth, 'x-switchyard-variant': 'v2' })).status).toBe(500);
    expect((await gw.app.request('/v2/models/seed-classifier/ready', { headers: auth })).status).toBe(200);
    expect((await post('/v2/models/seed-classifier/infer')).status).toBe(401);
    const after = await metrics();
    const delta = (s: string) => (value(after, s) ?? 0) - (value(before, s) ?? 0);
    expect(delta(series('v1', 'success'))).toBe(1);
    expect(delta(series('v1', 'client_error'))).toBe(1);
    expect(delta(series('v2', 'server_error'))).toBe(1);
    expect(delta(series('v2', 'success'))).toBe(0);
    // The 400 and the metadata GET are not inference latency of v1; the 401 never reached a variant.
    expect(delta(timed('v1'))).toBe(1);
    expect(delta(timed('v2'))).toBe(1);
  });
});
