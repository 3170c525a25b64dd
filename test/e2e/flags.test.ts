import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { admin, FLEET_KEY, inferRequest, startFleet, type Fleet, type Gateway } from '../src/fleet-fixture.ts';
import { startPrivateRedis, type PrivateRedis } from '../src/private-redis.ts';

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));
const SWITCHYARD_CLI = fileURLToPath(new URL('../../gateway/src/cli/switchyard.ts', import.meta.url));

interface FlagView { version: number; updated_by: string; state: { stable: string; candidate?: string; weights: Record<string, number>; kill: boolean; plan?: { status: string; step: number; reason?: string } } }
interface AuditView { version: number; actor: string; reason: string; old: unknown; new: { weights: Record<string, number> } }

const variantOf = async (gateway: Gateway, user: string, headers: Record<string, string> = {}) =>
  (await inferRequest(gateway.url, { 'x-switchyard-user': user, ...headers })).headers.get('x-switchyard-variant');

async function flags(gateway: Gateway): Promise<FlagView> {
  return (await admin(gateway, 'GET', '/admin/flags/seed-classifier')).body as FlagView;
}

/** Keeps `clients` users sending requests until stopped; returns every status seen. */
function traffic(gateway: Gateway, clients = 6): { stop(): Promise<number[]> } {
  let running = true;
  const statuses: number[] = [];
  const loops = Array.from({ length: clients }, async (_, c) => {
    for (let i = 0; running; i++) {
      // 0: the connection itself failed (the replica was killed).
      statuses.push(await inferRequest(gateway.url, { 'x-switchyard-user': `load-${c}-${i % 50}` }).then((r) => r.status, () => 0));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return statuses;
    },
  };
}

/** A stand-in for a broken candidate worker: 500 for `failRate` of requests, otherwise the real worker's answer. */
async function flakyWorker(target: string, failRate: number): Promise<{ url: string; close(): void }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fail = req.url?.includes('/infer') && ++n % Math.round(1 / failRate) === 0;
      if (fail) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"inference failed: device lost"}');
      void fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers: { 'content-type': 'application/json' }, ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}) })
        .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('feature flags across gateway replicas (real Redis)', () => {
  let fleet: Fleet;
  let a: Gateway;
  let b: Gateway;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
    [a, b] = await Promise.all([fleet.startGateway({ REDIS_URL: SHARED_REDIS }), fleet.startGateway({ REDIS_URL: SHARED_REDIS })]);
  });
  afterAll(async () => fleet?.close());

  it('seeds flags from switchyard.yaml once, then the store decides', async () => {
    const view = await flags(a);
    expect(view.state).toMatchObject({ stable: 'v1', candidate: 'v2', weights: { v1: 70, v2: 30 }, kill: false });
    expect(view.updated_by).toBe('switchyard.yaml');
    expect((await flags(b)).version).toBe(view.version);
  });

  // How fast a change propagates is measured by `npm run bench` (flags section), not asserted here.
  it('propagates every change made on one replica to the other, and routes by it', async () => {
    for (let i = 0; i < 20; i++) {
      const percent = i % 2 === 0 ? 100 : 0;
      const changed = await admin(a, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent });
      expect(changed.status).toBe(200);
      const version = (changed.body as FlagView).version;
      await eventually(() => flags(b), (f) => f.version >= version, 30_000);
      expect(await variantOf(b, 'prop-user')).toBe(percent === 100 ? 'v2' : 'v1');
    }
  });

  it('lets the allowlist and the kill switch win over weights', async () => {
    const base = await flags(a);
    const state = { ...base.state, weights: { v1: 100, v2: 0 }, allow: { subjects: ['vip'], tenants: [] }, deny: { subjects: [], tenants: [] }, rules: [], kill: false };
    expect((await admin(a, 'PUT', '/admin/flags/seed-classifier', { state, expected_version: base.version })).status).toBe(200);
    await eventually(() => variantOf(b, 'vip'), (v) => v === 'v2');
    expect(await variantOf(b, 'someone-else')).toBe('v1');
    expect((await admin(a, 'POST', '/admin/flags/seed-classifier/kill', { on: true })).status).toBe(200);
    await eventually(() => variantOf(b, 'vip'), (v) => v === 'v1');
    expect((await admin(b, 'POST', '/admin/flags/seed-classifier/kill', { on: false })).status).toBe(200);
    await eventually(() => variantOf(a, 'vip'), (v) => v === 'v2');
  });

  it('refuses invalid changes with 400, stale writes with 409, non-admins with 403, and changes nothing', async () => {
    const before = await flags(a);
    const bad = await admin(a, 'PUT', '/admin/flags/seed-classifier', { state: { ...before.state, weights: { v1: 50, v2: 20 } } });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/weights must sum to 100/);
    const unknown = await admin(a, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v9', percent: 10 });
    expect(unknown.status).toBe(400);
    const stale = await admin(a, 'PUT', '/admin/flags/seed-classifier', { state: before.state, expected_version: before.version - 1 });
    expect(stale.status).toBe(409);
    const anonymous = await fetch(`${a.adminUrl}/admin/flags`);
    expect(anonymous.status).toBe(401);
    expect((await flags(b)).version).toBe(before.version);
  });

  it('operates flags from the switchyard CLI', async () => {
    // Not execFileSync: a blocked event loop misses the gateways closing idle keep-alive connections.
    const cli = async (...args: string[]) =>
      (await promisify(execFile)(process.execPath, ['--import', TSX, SWITCHYARD_CLI, ...args], { env: { ...process.env, SWITCHYARD_ADMIN_URL: a.adminUrl, SWITCHYARD_ADMIN_KEY: FLEET_KEY }, encoding: 'utf8' })).stdout;
    expect(await cli('rollout', 'seed-classifier', '--candidate', '40%')).toMatch(/seed-classifier\s+\d+\s+v1\s+v2\s+v1=60% v2=40%/);
    const status = JSON.parse(await cli('status', '--json')) as { flags: Record<string, FlagView>; status: { flags: { connected: boolean } } };
    expect(status.flags['seed-classifier']?.state.weights).toEqual({ v1: 60, v2: 40 });
    expect(status.status.flags.connected).toBe(true);
    expect(await cli('history', 'seed-classifier', '--limit', '1')).toMatch(/e2e\s+candidate v2 set to 40%/);
    await eventually(() => flags(b), (f) => f.state.weights.v2 === 40);
  });

  it('records who changed what in the audit history', async () => {
    const history = (await admin(b, 'GET', '/admin/history/seed-classifier?limit=5')).body as AuditView[];
    expect(history.length).toBe(5);
    expect(history[0]?.actor).toBe('e2e');
    expect(history[0]?.reason).toBe('candidate v2 set to 40%');
    expect(history[1]?.reason).toBe('kill switch off');
    expect(history[0]?.version).toBeGreaterThan(history[1]?.version ?? Infinity);
  });
});

describe('progressive delivery', () => {
  it('rolls a candidate answering 500s back within one interval, recording why', async () => {
    const fleet = await startFleet({ v1Replicas: 1 });
    const flaky = await flakyWorker(fleet.workers.v2[0]?.url ?? '', 0.2);
    try {
      await fleet.writeConfig({ v2Upstreams: [flaky.url] });
      const gateway = await fleet.startGateway();
      const load = traffic(gateway);
      const started = await admin(gateway, 'POST', '/admin/rollouts/seed-classifier/start', {
        candidate: 'v2', steps: [20, 50, 100], interval_seconds: 3, guards: { min_success_rate: 0.99, min_requests: 20 },
      });
      expect(started.status).toBe(200);
      const rolledBack = await eventually(() => flags(gateway), (f) => f.state.plan?.status === 'rolled_back', 60_000);
      // Rolled back at its first judgement: the plan never advanced past its first step.
      expect(rolledBack.state.plan?.step).toBe(0);
      expect(rolledBack.state.weights).toEqual({ v1: 100, v2: 0 });
      expect(rolledBack.state.plan?.reason).toMatch(/candidate success rate 0\.\d+ < 0\.99/);
      const history = (await admin(gateway, 'GET', '/admin/history/seed-classifier')).body as AuditView[];
      expect(history[0]).toMatchObject({ actor: 'rollout-controller', reason: expect.stringMatching(/^rollback: candidate success rate/) as unknown });
      const statuses = await load.stop();
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s !== 200 && s !== 500)).toEqual([]);
    } finally {
      flaky.close();
      await fleet.close();
    }
  });

  it('promotes a healthy candidate through every step, and a takeover never applies a step twice', async () => {
    const fleet = await startFleet({ v1Replicas: 1 });
    try {
      const [a, b] = await Promise.all([fleet.startGateway({ REDIS_URL: SHARED_REDIS }), fleet.startGateway({ REDIS_URL: SHARED_REDIS })]);
      const loadA = traffic(a, 3);
      const loadB = traffic(b, 3);
      const started = await admin(a, 'POST', '/admin/rollouts/seed-classifier/start', {
        candidate: 'v2', steps: [10, 25, 50, 100], interval_seconds: 1.5, guards: { min_requests: 5, max_p99_ratio: 3, latency_slack_ms: 50 },
      });
      expect(started.status).toBe(200);
      // Once the plan has advanced a step, kill whichever replica holds the lease.
      await eventually(() => flags(a), (f) => (f.state.plan?.step ?? 0) >= 1, 60_000);
      const holder = ((await admin(a, 'GET', '/admin/status')).body as { rollout_lease: { holder: string } }).rollout_lease.holder;
      const [leader, survivor] = holder.includes(`:${a.child.pid}:`) ? [a, b] : [b, a];
      leader.child.kill('SIGKILL');
      const promoted = await eventually(() => flags(survivor), (f) => f.state.plan?.status === 'promoted', 120_000);
      expect(promoted.state).toMatchObject({ stable: 'v2', weights: { v1: 0, v2: 100 } });
      const history = ((await admin(survivor, 'GET', '/admin/history/seed-classifier?limit=20')).body as AuditView[]).reverse();
      const steps = history.filter((h) => h.actor === 'rollout-controller').map((h) => h.reason.split(':')[0]);
      expect(steps).toEqual(['advance', 'advance', 'advance', 'promote']);
      const shares = history.filter((h) => h.actor === 'rollout-controller').map((h) => h.new.weights.v2);
      expect(shares).toEqual([25, 50, 100, 100]);
      const [leaderStatuses, survivorStatuses] = leader === a ? [await loadA.stop(), await loadB.stop()] : [await loadB.stop(), await loadA.stop()];
      expect(leaderStatuses.filter((s) => s !== 200 && s !== 0)).toEqual([]);
      expect(survivorStatuses.filter((s) => s !== 200)).toEqual([]);
    } finally {
      await fleet.close();
    }
  }, 300_000); // four judged steps and a lease takeover on a possibly loaded machine
});

describe('flags while Redis is away', () => {
  let redis: PrivateRedis;
  let fleet: Fleet;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    fleet = await startFleet({ v1Replicas: 1 });
  });
  afterAll(async () => {
    await fleet?.close();
    await redis?.stop();
  });

  it('serves the last known flags, reports them stale, and takes changes again once Redis is back', async () => {
    const a = await fleet.startGateway({ REDIS_URL: redis.url });
    expect((await admin(a, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent: 100 })).status).toBe(200);
    expect(await variantOf(a, 'stale-user')).toBe('v2');

    await redis.stop();
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => inferRequest(a.url, { 'x-switchyard-user': `s${i}` })));
    expect(statuses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(statuses.map((r) => r.headers.get('x-switchyard-variant'))).toEqual(Array(20).fill('v2'));
    const ready = (await (await fetch(`${a.url}/v2/health/ready`)).json()) as { ready: boolean; flags: { stale: boolean } };
    expect(ready).toMatchObject({ ready: true, flags: { stale: true } });
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/^switchyard_gateway_flags_connected 0$/m);

    await redis.start();
    await eventually(async () => ((await (await fetch(`${a.url}/v2/health/ready`)).json()) as { flags: { stale: boolean } }).flags.stale, (stale) => !stale);
    // A second replica changes the flags; the first follows through pub/sub again.
    const b = await fleet.startGateway({ REDIS_URL: redis.url });
    expect((await admin(b, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent: 0 })).status).toBe(200);
    await eventually(() => variantOf(a, 'stale-user'), (v) => v === 'v1');
  });
});
