/**
 * The fleet on Deno: model workers and a gateway started with
 * `deno run -A` (the same entries as on Node) through the fleet runner's
 * service process, with Redis for flags and limits. A named subset of the
 * e2e suite: inference of every datatype (FP16 and BYTES included), auth,
 * rate limits, sticky routing, a flag change through the admin API, shadow
 * copies, fallback when a worker dies, the SIGTERM drain, and one trace
 * across gateway and worker.
 */
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { admin, FLEET_KEY, inferRequest, startFleet, type Fleet, type Gateway } from '../src/fleet-fixture.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../src/otlp-receiver.ts';

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const LIMITED_KEY = 'sy_e2e_deno_no_override_scope';

async function requireRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`these tests need Redis at ${url} (set REDIS_URL): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

function echoRequest(url: string, inputs: unknown[]): Promise<Response> {
  return fetch(`${url}/v2/models/typed-echo/infer`, {
    method: 'POST',
    headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'deno-echo', inputs }),
  });
}

function counter(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const variantOf = async (gateway: Gateway, user: string) => (await inferRequest(gateway.url, { 'x-switchyard-user': user })).headers.get('x-switchyard-variant');

describe('the fleet on Deno (deno run -A)', () => {
  let fleet: Fleet;
  let gateway: Gateway;
  beforeAll(async () => {
    await requireRedis(SHARED_REDIS);
    fleet = await startFleet({ runtime: 'deno', v1Replicas: 1, typedEcho: true });
    await fleet.writeConfig({
      // Only typed-echo is limited: 3 at once, then one per minute.
      policies: [{ name: 'echo', per: 'tenant', rate: 1, period_seconds: 60, burst: 3, models: ['typed-echo'] }],
      shadowPercent: 100,
      extraKeys: [{ id: 'deno-limited', key: LIMITED_KEY }],
    });
    gateway = await fleet.startGateway({ REDIS_URL: SHARED_REDIS });
  });
  afterAll(async () => fleet?.close());

  it('runs the workers and the gateway as Deno processes', () => {
    for (const service of [gateway, ...fleet.workers.v1, ...fleet.workers.v2, ...fleet.workers.echo]) {
      expect(service.child.spawnfile).toMatch(/deno$/);
      expect(service.child.spawnargs.slice(1, 3)).toEqual(['run', '-A']);
    }
  });

  it('carries every datatype through the gateway and a worker, FP16 and BYTES included', async () => {
    const data: Record<string, unknown[]> = {
      BOOL: [true, false], UINT8: [0, 255], UINT16: [1, 65535], UINT32: [0, 4294967295], UINT64: ['18446744073709551615', 1],
      INT8: [-128, 127], INT16: [-32768, 5], INT32: [-2147483648, 7], INT64: ['-9223372036854775808', 42],
      FP16: [1.5, -0.25], FP32: [0.5, -3.25], FP64: [1e-300, 2.5], BYTES: ['héllo', ''],
    };
    const inputs = Object.entries(data).map(([datatype, values]) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [1, 2], data: values }));
    const res = await echoRequest(gateway.url, inputs);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('x-switchyard-variant')).toBe('e1');
    expect(text).toContain('"data":[18446744073709551615,1]');
    expect(text).toContain('"data":[-9223372036854775808,42]');
    const body = JSON.parse(text) as { id: string; outputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }> };
    expect(body.id).toBe('deno-echo');
    const byName = new Map(body.outputs.map((o) => [o.name, o]));
    for (const [datatype, values] of Object.entries(data)) {
      if (datatype === 'UINT64' || datatype === 'INT64') continue; // exact 64-bit values are checked in the text above
      expect(byName.get(`out_${datatype.toLowerCase()}`), datatype).toEqual({ name: `out_${datatype.toLowerCase()}`, datatype, shape: [1, 2], data: values });
    }
  });

  it('refuses a missing or wrong key with 401 and a missing scope with 403', async () => {
    const missing = await fetch(`${gateway.url}/v2/models/seed-classifier/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(missing.status).toBe(401);
    expect(await inferRequest(gateway.url, { authorization: 'Bearer sy_not_a_key' }).then((r) => r.status)).toBe(401);
    const forbidden = await inferRequest(gateway.url, { authorization: `Bearer ${LIMITED_KEY}`, 'x-switchyard-variant': 'v2' });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: string }).error).toMatch(/variant:override/);
  });

  it('rate limits through Redis: 429 with Retry-After once the burst is spent', async () => {
    const inputs = [{ name: 'in_fp32', datatype: 'FP32', shape: [1, 2], data: [1, 2] }];
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await echoRequest(gateway.url, inputs);
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.body?.cancel();
    }
    // typed-echo needs every input, so admitted requests are 400s; what matters is where 429 begins.
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((s) => s !== 429 && s !== 400)).toEqual([]);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited?.headers.get('ratelimit-policy')).toBe('"echo";q=1;w=60');
    // seed-classifier is not under that policy.
    expect((await inferRequest(gateway.url)).status).toBe(200);
  });

  it('keeps each user on one variant and splits users across both', async () => {
    const seen = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 30; u++) {
        const variant = await variantOf(gateway, `sticky-${u}`);
        const set = seen.get(`sticky-${u}`) ?? new Set<string>();
        set.add(variant ?? 'none');
        seen.set(`sticky-${u}`, set);
      }
    }
    expect([...seen.values()].filter((s) => s.size !== 1)).toEqual([]);
    expect(new Set([...seen.values()].flatMap((s) => [...s]))).toEqual(new Set(['v1', 'v2']));
  });

  it('copies requests to the shadow variant', async () => {
    const v2Ok = /^switchyard_worker_requests_total\{model="seed-classifier",version="2",status="200"\} (\d+)$/gm;
    const v2Url = fleet.workers.v2[0]?.url ?? '';
    const before = counter(await (await fetch(`${v2Url}/metrics`)).text(), v2Ok);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => inferRequest(gateway.url, { 'x-switchyard-variant': 'v1' }).then((r) => r.status)));
    expect(statuses).toEqual(Array(10).fill(200));
    // Only shadow copies reach v2 here: every answered request was pinned to v1.
    const after = await eventually(async () => counter(await (await fetch(`${v2Url}/metrics`)).text(), v2Ok), (n) => n >= before + 10, 30_000, 100);
    expect(after - before).toBeGreaterThanOrEqual(10);
  });

  it('changes the split live through the admin API', async () => {
    const toV2 = await admin(gateway, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent: 100 });
    expect(toV2.status).toBe(200);
    expect(await eventually(() => variantOf(gateway, 'flag-user'), (v) => v === 'v2')).toBe('v2');
    const toV1 = await admin(gateway, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent: 0 });
    expect(toV1.status).toBe(200);
    expect(await eventually(() => variantOf(gateway, 'flag-user'), (v) => v === 'v1')).toBe('v1');
  });

  it('falls back to the stable variant when the candidate worker dies', async () => {
    expect((await admin(gateway, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent: 100 })).status).toBe(200);
    await eventually(() => variantOf(gateway, 'fallback-user'), (v) => v === 'v2');
    const v2 = fleet.workers.v2[0];
    v2?.child.kill('SIGKILL');
    await v2?.exited;
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => inferRequest(gateway.url, { 'x-switchyard-user': `fallback-${i}` }).then((r) => r.status)));
    expect(statuses).toEqual(Array(20).fill(200));
  });

  it('drains on SIGTERM: every request on open connections is answered, the last ones with Connection: close, and the gateway exits 0', async () => {
    const agent = new Agent({ connections: 4, pipelining: 1, keepAliveTimeout: 30_000 });
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });
    const outcomes: Array<{ status: number; connection: string | undefined } | { error: string }> = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        try {
          const res = await request(`${gateway.url}/v2/models/seed-classifier/infer`, {
            method: 'POST', dispatcher: agent, body,
            headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json', 'x-switchyard-variant': 'v1' },
          });
          await res.body.text();
          const connection = res.headers.connection;
          outcomes.push({ status: res.statusCode, connection: typeof connection === 'string' ? connection : undefined });
        } catch (error) {
          const code = (error as { code?: string }).code ?? (error as Error).message;
          outcomes.push({ error: code });
          if (code === 'ECONNREFUSED') return;
        }
      }
    };
    const clients = Array.from({ length: 4 }, () => client());
    await eventually(() => outcomes.length, (n) => n >= 100, 60_000);
    gateway.child.kill('SIGTERM');
    const code = await gateway.exited;
    stop = true;
    await Promise.all(clients);
    await agent.close();

    expect(code).toBe(0);
    const answered = outcomes.filter((o): o is { status: number; connection: string | undefined } => 'status' in o);
    expect(answered.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    expect(outcomes.filter((o) => 'error' in o && o.error !== 'ECONNREFUSED')).toEqual([]);
    const firstClose = answered.findIndex((o) => o.connection === 'close');
    expect(firstClose).toBeGreaterThanOrEqual(0);
    expect(answered.slice(firstClose).map((o) => o.connection ?? 'keep-alive')).toEqual(answered.slice(firstClose).map(() => 'close'));
    // The workers drain too: SIGTERM, exit 0.
    expect(await fleet.workers.echo[0]?.stop()).toBe(0);
  });
});

describe('traces on Deno (OTLP/HTTP JSON)', () => {
  const SERVER = 2;
  let receiver: OtlpReceiver;
  let fleet: Fleet;
  let gateway: Gateway;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
    fleet = await startFleet({ runtime: 'deno', v1Replicas: 1, workerEnv: otel });
    gateway = await fleet.startGateway(otel);
  });
  afterAll(async () => {
    await fleet?.close();
    await receiver?.close();
  });

  it("continues the caller's trace through the gateway into the worker's session.run", async () => {
    const traceId = 'de'.repeat(16);
    const res = await inferRequest(gateway.url, { traceparent: `00-${traceId}-${'ad'.repeat(8)}-01`, 'x-switchyard-variant': 'v1' });
    expect(res.status).toBe(200);
    const spans = await eventually(
      () => receiver.spans.filter((s) => s.traceId === traceId),
      (s) => s.some((x) => x.name === 'session.run') && s.some((x) => x.service === 'switchyard-gateway' && x.kind === SERVER),
      30_000,
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const gatewayServer = spans.find((s) => s.service === 'switchyard-gateway' && s.kind === SERVER) as ReceivedSpan;
    expect(gatewayServer.parentSpanId).toBe('ad'.repeat(8));
    const workerServer = spans.find((s) => s.service === 'switchyard-model-worker' && s.kind === SERVER) as ReceivedSpan;
    let ancestor = byId.get(workerServer.parentSpanId ?? '');
    while (ancestor && ancestor !== gatewayServer) ancestor = byId.get(ancestor.parentSpanId ?? '');
    expect(ancestor).toBe(gatewayServer);
    const run = spans.find((s) => s.name === 'session.run') as ReceivedSpan;
    expect(run.links.map((l) => l.spanId)).toContain(workerServer.spanId);
  });
});
