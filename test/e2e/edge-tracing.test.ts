import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { admin, inferRequest, startFleet, type Fleet, type Gateway } from '../src/fleet-fixture.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../src/otlp-receiver.ts';

const SERVER = 2;
const EDGE_SERVICE = 'switchyard-edge-pass-through';

/** A pass-through edge worker (`env.MODEL.fetch(request)`) in front of v1. */
async function addPassThrough(fleet: Fleet): Promise<void> {
  const module = join(fleet.dir, 'pass-through.ts');
  await writeFile(module, 'export default { fetch: (request, env) => env.MODEL.fetch(request) };');
  await fleet.writeConfig({ edge: { workers: { 'pass-through': { module } }, v1: 'pass-through' } });
}

/** An OTLP receiver, and a fleet whose workers and gateway (with `gatewayEnv`) export to it, v1 behind the pass-through worker. */
async function tracedEdgeFleet(gatewayEnv: Record<string, string>): Promise<{ receiver: OtlpReceiver; fleet: Fleet; gateway: Gateway }> {
  const receiver = await startOtlpReceiver();
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
  const fleet = await startFleet({ v1Replicas: 1, workerEnv: { ...otel, SWITCHYARD_VARIANT: 'v1', SWITCHYARD_POOL: 'cpu' } });
  await addPassThrough(fleet);
  const gateway = await fleet.startGateway({ ...otel, ...gatewayEnv });
  return { receiver, fleet, gateway };
}

describe('one trace across gateway → edge worker → model worker', () => {
  let receiver: OtlpReceiver;
  let fleet: Fleet;
  let gateway: Gateway;

  beforeAll(async () => {
    ({ receiver, fleet, gateway } = await tracedEdgeFleet({ LOG_LEVEL: 'info' }));
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
    await receiver?.close();
  });

  it('gives the edge worker its own server span under the gateway request, and puts the model worker\'s span under it', async () => {
    const traceId = '9e'.repeat(16);
    const res = await inferRequest(gateway.url, { traceparent: `00-${traceId}-${'cd'.repeat(8)}-01`, 'x-switchyard-variant': 'v1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-edge-worker')).toBe('pass-through');
    const spans = await eventually(
      () => receiver.spans.filter((s) => s.traceId === traceId),
      (s) => s.some((x) => x.service === 'switchyard-model-worker' && x.kind === SERVER)
        && s.some((x) => x.service === 'switchyard-gateway' && x.name === 'POST /v2/models/:model/infer')
        && s.some((x) => x.service === EDGE_SERVICE && x.kind === SERVER),
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const ancestors = (span: ReceivedSpan) => {
      const chain: ReceivedSpan[] = [];
      for (let a = byId.get(span.parentSpanId ?? ''); a; a = byId.get(a.parentSpanId ?? '')) chain.push(a);
      return chain;
    };
    const gatewayServer = spans.find((s) => s.service === 'switchyard-gateway' && s.name === 'POST /v2/models/:model/infer') as ReceivedSpan;
    expect(gatewayServer.parentSpanId).toBe('cd'.repeat(8));
    // The Deno host's own span (Deno's built-in tracing), in the gateway request's trace.
    const edgeServer = spans.find((s) => s.service === EDGE_SERVICE && s.kind === SERVER) as ReceivedSpan;
    expect(ancestors(edgeServer)).toContain(gatewayServer);
    // The model call the module made through env.MODEL continues the edge worker's span.
    const workerServer = spans.find((s) => s.service === 'switchyard-model-worker' && s.kind === SERVER) as ReceivedSpan;
    expect(ancestors(workerServer)).toContain(edgeServer);
    expect(ancestors(workerServer)).toContain(gatewayServer);
  });
});

describe('edge worker tracing follows the gateway\'s sampling decision', () => {
  let receiver: OtlpReceiver;
  let fleet: Fleet;
  let gateway: Gateway;

  beforeAll(async () => {
    // This gateway samples nothing, whatever the caller's flags say; the workers keep the default (parent-based).
    ({ receiver, fleet, gateway } = await tracedEdgeFleet({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }));
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
    await receiver?.close();
  });

  it('records no span in the edge worker or the model worker for a request the gateway did not sample', async () => {
    const flags = [undefined, undefined, '00', '01'];
    for (const [i, flag] of flags.entries()) {
      const headers = { 'x-switchyard-variant': 'v1', ...(flag ? { traceparent: `00-${String(i + 1).repeat(32)}-${'cd'.repeat(8)}-${flag}` } : {}) };
      const res = await inferRequest(gateway.url, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-switchyard-edge-worker')).toBe('pass-through');
    }
    // Sent last, straight to the worker and sampled: once its spans have arrived, any from the requests before have too.
    const marker = '5a'.repeat(16);
    const direct = await inferRequest(fleet.workers.v1[0]?.url as string, { traceparent: `00-${marker}-${'cd'.repeat(8)}-01` });
    expect(direct.status).toBe(200);
    await eventually(() => receiver.spans.filter((s) => s.traceId === marker), (s) => s.some((x) => x.service === 'switchyard-model-worker' && x.kind === SERVER));
    expect([...new Set(receiver.spans.map((s) => s.traceId))]).toEqual([marker]);
  });
});

describe('edge worker processes and their gateway', () => {
  let fleet: Fleet;
  afterAll(async () => {
    await fleet?.close();
  });

  it('exit when their gateway is killed outright (no orphans)', async () => {
    fleet = await startFleet({ v1Replicas: 1 });
    await addPassThrough(fleet);
    const gateway = await fleet.startGateway();
    const listed = await admin(gateway, 'GET', '/admin/edge-workers');
    const pid = (listed.body as { edge_workers: Array<{ pid: number }> }).edge_workers[0]?.pid as number;
    expect(alive(pid)).toBe(true);
    gateway.child.kill('SIGKILL');
    await eventually(() => alive(pid), (running) => !running, 10_000);
    expect(alive(pid)).toBe(false);
  }, 120_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // No such process: it has exited.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
