import { freePort } from '@switchyard/fleet/worker-process';
import { createInferenceClient, valuesToRaw } from '@switchyard/grpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { FLEET_KEY, inferRequest, startFleet, type Fleet, type Gateway } from '../src/fleet-fixture.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../src/otlp-receiver.ts';

const SERVER = 2;
const CLIENT = 3;

describe('one trace per request across the fleet (OTLP/HTTP JSON)', () => {
  let receiver: OtlpReceiver;
  let fleet: Fleet;
  let gateway: Gateway;
  let grpcPort: number;

  beforeAll(async () => {
    grpcPort = await freePort();
    receiver = await startOtlpReceiver();
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
    fleet = await startFleet({ v1Replicas: 1, workerEnv: { ...otel, SWITCHYARD_VARIANT: 'v1', SWITCHYARD_POOL: 'cpu' } });
    // Redis-backed rate limits and flags, so requests make Redis calls.
    await fleet.writeConfig({ policies: [{ name: 'tenant', per: 'tenant', rate: 10_000, burst: 10_000 }] });
    gateway = await fleet.startGateway({ ...otel, LOG_LEVEL: 'info', REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', GRPC_PORT: String(grpcPort) });
  });
  afterAll(async () => {
    await fleet?.close();
    await receiver?.close();
  });

  it('links gateway, upstream call, worker, queue wait and session.run in one trace', async () => {
    const traceId = 'ab'.repeat(16);
    const res = await inferRequest(gateway.url, { traceparent: `00-${traceId}-${'cd'.repeat(8)}-01`, 'x-switchyard-variant': 'v1' }, '/v2/models/seed-classifier/infer');
    expect(res.status).toBe(200);
    const spans = await eventually(() => receiver.spans.filter((s) => s.traceId === traceId), (s) => s.some((x) => x.name === 'session.run') && s.some((x) => x.service === 'switchyard-gateway' && x.kind === SERVER));
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const gatewayServer = spans.find((s) => s.service === 'switchyard-gateway' && s.kind === SERVER) as ReceivedSpan;
    expect(gatewayServer.name).toBe('POST /v2/models/:model/infer');
    expect(gatewayServer.parentSpanId).toBe('cd'.repeat(8));
    expect(gatewayServer.attributes).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.variant': 'v1', 'switchyard.model_version': '1', 'http.response.status_code': 200 });
    expect(gatewayServer.events.map((e) => e.name)).toEqual(expect.arrayContaining(['auth']));

    const workerServer = spans.find((s) => s.service === 'switchyard-model-worker' && s.kind === SERVER) as ReceivedSpan;
    expect(workerServer.name).toBe('POST /v2/models/:model/versions/:version/infer');
    expect(workerServer.resource).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.variant': 'v1', 'switchyard.pool': 'cpu' });
    // The worker's span descends from the gateway's (directly, or through the gateway's client span).
    let ancestor = byId.get(workerServer.parentSpanId ?? '');
    while (ancestor && ancestor !== gatewayServer) ancestor = byId.get(ancestor.parentSpanId ?? '');
    expect(ancestor).toBe(gatewayServer);
    expect(spans.some((s) => s.service === 'switchyard-gateway' && s.kind === CLIENT)).toBe(true);

    const inference = spans.find((s) => s.name === 'inference') as ReceivedSpan;
    expect(inference.parentSpanId).toBe(workerServer.spanId);
    const wait = spans.find((s) => s.name === 'queue wait') as ReceivedSpan;
    expect(wait.parentSpanId).toBe(inference.spanId);
    const run = spans.find((s) => s.name === 'session.run') as ReceivedSpan;
    expect(run.attributes).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.model_version': '1', 'switchyard.execution_provider': 'cpu', 'switchyard.batch_size': 1 });
    expect(run.links.map((l) => l.spanId)).toContain(workerServer.spanId);
  });

  it('traces a gRPC ModelInfer the same way: the caller\'s traceparent metadata, the gateway pipeline, the worker and session.run in one trace', async () => {
    const traceId = '6c'.repeat(16);
    const client = createInferenceClient(`127.0.0.1:${grpcPort}`);
    try {
      const reply = await client.modelInfer(
        { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [valuesToRaw('FP32', [0.1, 0.2])] },
        { metadata: { authorization: `Bearer ${FLEET_KEY}`, traceparent: `00-${traceId}-${'7d'.repeat(8)}-01`, 'x-switchyard-variant': 'v1' } },
      );
      expect(reply.model_version).toBe('1');
    } finally {
      client.close();
    }
    const spans = await eventually(
      () => receiver.spans.filter((s) => s.traceId === traceId),
      (s) => s.some((x) => x.name === 'session.run') && s.some((x) => x.service === 'switchyard-gateway' && x.kind === SERVER) && s.some((x) => x.attributes['db.system'] === 'redis' || x.attributes['db.system.name'] === 'redis'),
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const gatewayServer = spans.find((s) => s.service === 'switchyard-gateway' && s.kind === SERVER) as ReceivedSpan;
    expect(gatewayServer.name).toBe('POST /v2/models/:model/infer');
    expect(gatewayServer.parentSpanId).toBe('7d'.repeat(8));
    expect(gatewayServer.attributes).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.variant': 'v1', 'http.response.status_code': 200 });
    const workerServer = spans.find((s) => s.service === 'switchyard-model-worker' && s.kind === SERVER) as ReceivedSpan;
    let ancestor = byId.get(workerServer.parentSpanId ?? '');
    while (ancestor && ancestor !== gatewayServer) ancestor = byId.get(ancestor.parentSpanId ?? '');
    expect(ancestor).toBe(gatewayServer);
    expect((spans.find((s) => s.name === 'session.run') as ReceivedSpan).links.map((l) => l.spanId)).toContain(workerServer.spanId);
  });

  it('shows the rate-limit decision\'s Redis command (ioredis, loaded through ESM) in the request\'s own trace', async () => {
    const traceId = 'a1'.repeat(16);
    expect((await inferRequest(gateway.url, { traceparent: `00-${traceId}-${'b2'.repeat(8)}-01` })).status).toBe(200);
    const isRedis = (x: ReceivedSpan) => x.attributes['db.system'] === 'redis' || x.attributes['db.system.name'] === 'redis';
    const spans = await eventually(
      () => receiver.spans.filter((s) => s.traceId === traceId),
      (s) => s.some(isRedis) && s.some((x) => x.service === 'switchyard-gateway' && x.kind === SERVER),
    );
    const gatewayServer = spans.find((s) => s.service === 'switchyard-gateway' && s.kind === SERVER) as ReceivedSpan;
    const redis = spans.filter(isRedis);
    for (const span of redis) {
      expect(span.service).toBe('switchyard-gateway');
      expect(span.kind).toBe(CLIENT);
      expect(span.parentSpanId).toBe(gatewayServer.spanId);
    }
  });

  it('shows an inference span in every served request\'s own trace, linked to the batch run that served it', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `${String(i).padStart(2, '0')}${'9'.repeat(30)}`);
    const statuses = await Promise.all(ids.map((t) => inferRequest(gateway.url, { traceparent: `00-${t}-${'f2'.repeat(8)}-01` }).then((r) => r.status)));
    expect(statuses).toEqual(Array(ids.length).fill(200));
    const inferences = await eventually(
      () => receiver.spans.filter((s) => s.name === 'inference' && ids.includes(s.traceId)),
      (found) => new Set(found.map((s) => s.traceId)).size === ids.length,
    );
    const runs = new Set(receiver.spans.filter((s) => s.name === 'session.run').map((s) => s.spanId));
    for (const inference of inferences) {
      const parent = receiver.spans.find((s) => s.spanId === inference.parentSpanId);
      expect(parent).toMatchObject({ traceId: inference.traceId, service: 'switchyard-model-worker', kind: SERVER });
      expect(inference.links.some((l) => runs.has(l.spanId))).toBe(true);
    }
  });

  it('starts no traces for health polls, readiness checks or metric scrapes', async () => {
    const auth = { authorization: `Bearer ${FLEET_KEY}` };
    for (const url of [gateway.url, fleet.workers.v1[0]?.url ?? '']) {
      for (const path of ['/metrics', '/v2/health/live', '/v2/health/ready']) expect((await fetch(`${url}${path}`)).status).toBe(200);
      expect((await fetch(`${url}/v2/models/seed-classifier/ready`, { headers: auth })).status).toBe(200);
    }
    // The gateway has polled its upstreams' health every 200 ms since it started. A traced request sent
    // after all of that is exported after every span those calls could have made.
    const marker = 'c3'.repeat(16);
    expect((await inferRequest(gateway.url, { traceparent: `00-${marker}-${'d4'.repeat(8)}-01` })).status).toBe(200);
    await eventually(() => receiver.spans.filter((s) => s.traceId === marker && s.service === 'switchyard-model-worker'), (s) => s.some((x) => x.name === 'session.run'));
    const probe = /\/metrics$|\/health\/|\/ready$/;
    const target = (s: ReceivedSpan): string => {
      const value = s.attributes['url.path'] ?? s.attributes['url.full'];
      return typeof value === 'string' ? value : '';
    };
    const roots = receiver.spans.filter((s) => s.parentSpanId === undefined);
    const noise = roots.filter((s) => s.service !== 'switchyard-gateway' || s.kind !== SERVER || probe.test(target(s)));
    expect(noise.map((s) => `${s.service} ${s.name} ${target(s)}`)).toEqual([]);
    expect(receiver.spans.filter((s) => probe.test(target(s)))).toEqual([]);
  });

  it('links a batched session.run to every request it served', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `${String(i).padStart(2, '0')}${'e'.repeat(30)}`);
    await Promise.all(ids.map((t) => inferRequest(gateway.url, { traceparent: `00-${t}-${'f1'.repeat(8)}-01` })));
    const runs = await eventually(
      () => receiver.spans.filter((s) => s.name === 'session.run' && s.links.some((l) => ids.includes(l.traceId))),
      (r) => r.flatMap((x) => x.links.map((l) => l.traceId)).filter((t) => ids.includes(t)).length === 8,
    );
    const linked = runs.flatMap((r) => r.links.map((l) => l.traceId)).filter((t) => ids.includes(t));
    expect(new Set(linked)).toEqual(new Set(ids));
    expect(runs.some((r) => Number(r.attributes['switchyard.batch_size']) > 1)).toBe(true);
  });

  it('never exports or logs credentials or tensor data', async () => {
    const canaryData = 0.918273645;
    await inferRequest(gateway.url, {}, '/v2/models/seed-classifier/infer').then((r) => r.text());
    await fetch(`${gateway.url}/v2/models/seed-classifier/infer`, {
      method: 'POST', headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [canaryData, canaryData] }] }),
    });
    await fetch(`${gateway.url}/v2/models/seed-classifier/infer`, { method: 'POST', headers: { authorization: 'Bearer sy_canary_wrong_secret' }, body: '{}' });
    // Everything about the refused request has been logged and exported before the search.
    await eventually(
      () => gateway.lines.some((l) => l.includes('"status":401')) && receiver.spans.some((s) => s.service === 'switchyard-gateway' && Number(s.attributes['http.response.status_code']) === 401),
      Boolean,
      30_000,
    );
    const everything = [...receiver.raw, ...gateway.lines, ...fleet.workers.v1.flatMap((w) => w.lines)].join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    expect(everything).not.toContain(FLEET_KEY);
    expect(everything).not.toContain('sy_canary_wrong_secret');
    expect(everything).not.toContain('918273645');
    // The logs do carry what operators need.
    const line = gateway.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request served');
    expect(line).toMatchObject({ model: 'seed-classifier', status: 200 });
    expect(line?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(line?.request_id).toBeDefined();
    expect(line?.variant).toBeDefined();
    expect(line?.duration_ms).toBeGreaterThan(0);
  });
});

describe('telemetry never changes answers or slows requests', () => {
  let fleet: Fleet;
  let off: Gateway;
  let unreachable: Gateway;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
    const { freePort } = await import('@switchyard/fleet/worker-process');
    const deadCollector = `http://127.0.0.1:${await freePort()}`;
    [off, unreachable] = await Promise.all([
      fleet.startGateway(),
      fleet.startGateway({
        OTEL_EXPORTER_OTLP_ENDPOINT: deadCollector, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TIMEOUT: '500',
        OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: '50',
      }),
    ]);
  });
  afterAll(async () => fleet?.close());

  /** Sends `n` requests, all of which must succeed. */
  async function serve(gateway: Gateway, n: number): Promise<void> {
    for (let i = 0; i < n; i++) expect((await inferRequest(gateway.url, { 'x-switchyard-variant': 'v1' })).status).toBe(200);
  }

  // The latency cost of tracing is measured by `npm run bench` (tracing section), not asserted here.
  it('answers the same with tracing on (collector unreachable) and off, and counts the spans it lost', async () => {
    const headers = { 'x-switchyard-variant': 'v2', 'x-request-id': 'same-request' };
    const [a, b] = await Promise.all([inferRequest(off.url, headers), inferRequest(unreachable.url, headers)]);
    expect(a.status).toBe(b.status);
    expect(await a.text()).toBe(await b.text());
    await Promise.all([serve(off, 100), serve(unreachable, 100)]);
    const lost = async (): Promise<{ queueFull: number; failed: number }> => {
      const metrics = await (await fetch(`${unreachable.url}/metrics`)).text();
      return {
        queueFull: Number(/^switchyard_telemetry_spans_lost_total\{reason="queue_full"\} (\d+)$/m.exec(metrics)?.[1]),
        failed: Number(/^switchyard_telemetry_spans_lost_total\{reason="export_failed"\} (\d+)$/m.exec(metrics)?.[1]),
      };
    };
    // A refused connection fails each export at once, so spans are counted as failed rather than queued.
    const { queueFull, failed } = await eventually(lost, (counts) => counts.failed > 0, 30_000, 100);
    expect(queueFull).toBeGreaterThanOrEqual(0);
    expect(failed).toBeGreaterThan(0);
  });
});
