import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { captureLogs } from '@switchyard/model-worker/testing/worker-harness';
import type { FlagStore } from '../flags/flag-store.ts';
import { MemoryFlagStore } from '../flags/memory-flag-store.ts';
import { RedisFlagStore } from '../flags/redis-flag-store.ts';
import { seedFlags } from '../flags/seed-flags.ts';
import { VariantStats } from '../rollout/variant-stats.ts';
import { sha256 } from '../testing/gateway-harness.ts';
import { connectTestRedis } from '../testing/test-redis.ts';
import { createAdminApp } from './admin-app.ts';

const ADMIN_KEY = 'sy_admin_key';
const APP_KEY = 'sy_app_key';
const config = parseFleetConfig(
  {
    version: 1,
    auth: {
      api_keys: [
        { id: 'ops', sha256: sha256(ADMIN_KEY), tenant: 'acme', scopes: ['admin'] },
        { id: 'app', sha256: sha256(APP_KEY), tenant: 'acme', scopes: ['infer:*'] },
      ],
    },
    models: { m: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 90, port: 9990 }, { name: 'v2', version: 2, weight: 10, port: 9991 }] } },
  },
  'test',
);

async function adminApp(store: FlagStore = new MemoryFlagStore()) {
  await seedFlags(store, config);
  const logs = captureLogs('admin');
  const app = createAdminApp({ config: () => config, store, stats: new VariantStats(), leadership: () => Promise.resolve({ holder: 'me', self: 'me' }), logger: logs.logger });
  const call = (method: string, path: string, body?: unknown, key = ADMIN_KEY) =>
    app.request(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { app, store, call, logs };
}

describe('admin API', () => {
  it('answers 401 without a key and 403 for a key without the admin scope', async () => {
    const { app, call } = await adminApp();
    expect((await app.request('/admin/flags')).status).toBe(401);
    const forbidden = await call('GET', '/admin/flags', undefined, APP_KEY);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toEqual({ error: "the admin API needs the scope 'admin'" });
  });

  it('sets a candidate share, drives a plan by hand, and keeps an audit trail', async () => {
    const { call, store } = await adminApp();
    expect((await call('POST', '/admin/rollouts/m/weights', { percent: 5 })).status).toBe(200);
    expect(store.get('m')?.state.weights).toEqual({ v1: 95, v2: 5 });
    expect((await call('POST', '/admin/rollouts/m/start', { steps: [5, 100], interval_seconds: 30 })).status).toBe(200);
    expect((await call('POST', '/admin/rollouts/m/pause')).status).toBe(200);
    expect((await call('POST', '/admin/rollouts/m/pause')).status).toBe(400);
    expect((await call('POST', '/admin/rollouts/m/resume')).status).toBe(200);
    expect((await call('POST', '/admin/rollouts/m/rollback')).status).toBe(200);
    expect(store.get('m')?.state).toMatchObject({ weights: { v1: 100, v2: 0 }, plan: { status: 'rolled_back' } });
    const history = (await (await call('GET', '/admin/history/m')).json()) as Array<{ actor: string; reason: string }>;
    expect(history.map((h) => h.reason)).toEqual([
      'rolled back by an operator', 'rollout resumed', 'rollout paused', 'rollout of v2 started', 'candidate v2 set to 5%', 'seeded from switchyard.yaml',
    ]);
    expect(history[0]?.actor).toBe('ops');
    expect((await call('POST', '/admin/flags/m/reset')).status).toBe(200);
    expect(store.get('m')?.state).toEqual({ stable: 'v1', candidate: 'v2', weights: { v1: 90, v2: 10 }, allow: { subjects: [], tenants: [] }, deny: { subjects: [], tenants: [] }, rules: [], kill: false });
  });

  it('refuses invalid changes with 400 and a message, leaving the flags as they were', async () => {
    const { call, store } = await adminApp();
    const before = store.get('m');
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['PUT', '/admin/flags/m', { state: { stable: 'v1', weights: { v1: 50 } } }, /weights must sum to 100/],
      ['PUT', '/admin/flags/m', { state: { stable: 'v1', weights: { v1: 50, v3: 50 } } }, /'v3' is not a variant/],
      ['PUT', '/admin/flags/m', { nope: 1 }, /Unrecognized key/],
      ['POST', '/admin/rollouts/m/weights', { percent: 120 }, /percent/],
      ['POST', '/admin/rollouts/m/start', { steps: [50, 10] }, /strictly ascending/],
      ['POST', '/admin/flags/m/kill', { on: 'yes' }, /on/],
      ['POST', '/admin/rollouts/m/weights', '{not json', /malformed JSON/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect((await call('GET', '/admin/flags/nope')).status).toBe(404);
    expect(store.get('m')).toEqual(before);
  });

  it('refuses a rollback with 409 and the reason when there is nothing to roll back, recording nothing', async () => {
    const { call, store } = await adminApp();
    expect((await call('POST', '/admin/rollouts/m/promote')).status).toBe(200);
    const before = store.get('m');
    const refused = await call('POST', '/admin/rollouts/m/rollback');
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({ error: "nothing to roll back: no rollout is running or paused and the stable variant 'v2' already has all traffic" });
    expect(store.get('m')).toEqual(before);
    expect(((await (await call('GET', '/admin/history/m')).json()) as Array<{ reason: string }>)[0]?.reason).toBe('promoted by an operator');
  });

  it('reports stats and status in snake_case, with null rather than a perfect score for a variant without requests', async () => {
    const { call } = await adminApp();
    expect(await (await call('GET', '/admin/stats')).json()).toEqual({
      m: { v1: { requests: 0, success_rate: null, p50_ms: null, p99_ms: null }, v2: { requests: 0, success_rate: null, p50_ms: null, p99_ms: null } },
    });
    expect(await (await call('GET', '/admin/status')).json()).toEqual({
      flags: { connected: true, last_sync_at: expect.any(Number) as unknown }, rollout_lease: { holder: 'me', self: 'me' },
    });
  });

  it('never answers 5xx to fuzzed payloads', async () => {
    const { call } = await adminApp();
    const paths = fc.constantFrom(
      ['PUT', '/admin/flags/m'], ['POST', '/admin/flags/m/kill'], ['POST', '/admin/rollouts/m/weights'], ['POST', '/admin/rollouts/m/start'],
      ['POST', '/admin/rollouts/m/promote'], ['POST', '/admin/rollouts/m/pause'], ['POST', '/admin/rollouts/x/start'], ['GET', '/admin/history/m?limit=abc'],
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record({ state: fc.jsonValue(), expected_version: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] }),
      fc.record({ candidate: fc.oneof(fc.constantFrom('v1', 'v2'), fc.string()), percent: fc.oneof(fc.double(), fc.integer()), steps: fc.array(fc.integer({ min: -10, max: 120 })), interval_seconds: fc.double() }, { requiredKeys: [] }),
      fc.string(),
    );
    await fc.assert(
      fc.asyncProperty(paths, body, async ([method = 'GET', path = '/'], payload) => {
        const res = await call(method, path, method === 'GET' ? undefined : payload);
        expect(res.status, `${method} ${path} ${JSON.stringify(payload)}`).toBeLessThan(500);
        expect(typeof ((await res.json()) as { error?: unknown }).error === 'string' || res.status < 400).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('answers names that are Object.prototype properties as unknown models (404), never 500', async () => {
    const { call, store } = await adminApp();
    const before = store.get('m');
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      for (const [method, path, body] of [
        ['GET', `/admin/flags/${name}`], ['PUT', `/admin/flags/${name}`, { state: {} }], ['POST', `/admin/flags/${name}/reset`],
        ['GET', `/admin/history/${name}`], ['POST', `/admin/rollouts/${name}/weights`, { percent: 5 }], ['POST', `/admin/rollouts/${name}/start`, {}],
      ] as Array<[string, string, unknown?]>) {
        const res = await call(method, path, body);
        expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
        expect(await res.json()).toEqual({ error: `unknown model '${name}'` });
      }
      // Nor is a prototype name a variant.
      const weights = await call('POST', '/admin/rollouts/m/weights', { candidate: name, percent: 5 });
      expect(weights.status).toBe(400);
    }
    expect(store.get('m')).toEqual(before);
  });

  it('answers 503 with a clear message, and logs it, when the flag store (Redis) is unavailable', async () => {
    const shared = await connectTestRedis();
    const { prefix } = shared;
    // The store's own command connection, which the test takes away.
    const redis = shared.redis.duplicate({ lazyConnect: true, enableOfflineQueue: false });
    await redis.connect();
    const store = await RedisFlagStore.open({ redis, subscriber: redis.duplicate({ lazyConnect: false, enableOfflineQueue: true }), prefix, onError: () => undefined });
    try {
      const { call, logs } = await adminApp(store);
      expect((await call('GET', '/admin/history/m')).status).toBe(200);
      redis.disconnect(); // Redis is gone for commands
      for (const [method, path, body] of [['GET', '/admin/history/m'], ['POST', '/admin/rollouts/m/weights', { percent: 7 }], ['POST', '/admin/flags/m/kill', { on: true }]] as Array<[string, string, unknown?]>) {
        const res = await call(method, path, body);
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(((await res.json()) as { error: string }).error).toMatch(/^the flag store is unavailable \(.+\); nothing was changed, retry shortly$/);
      }
      const refusals = logs.lines.filter((l) => l.msg === 'admin request refused: flag store unavailable');
      expect(refusals).toHaveLength(3);
      expect(refusals[0]).toMatchObject({ level: 'warn', method: 'GET', path: '/admin/history/m', actor: 'ops' });
      expect(store.get('m')?.state.weights).toEqual({ v1: 90, v2: 10 });
    } finally {
      await store.close();
      await shared.close();
    }
  });

  it('logs an internal fault with its context once, and answers 500 without details', async () => {
    const store = new MemoryFlagStore();
    const { call, logs } = await adminApp(Object.assign(store, { history: () => Promise.reject(new Error('disk on fire')) }));
    const res = await call('GET', '/admin/history/m');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
    expect(logs.lines.filter((l) => l.msg === 'admin request failed')).toEqual([
      expect.objectContaining({ level: 'error', method: 'GET', path: '/admin/history/m', err: expect.objectContaining({ message: 'disk on fire' }) as unknown }),
    ]);
  });
});
