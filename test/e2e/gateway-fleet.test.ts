import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { FLEET_KEY, inferRequest, startFleet, type Fleet } from '../src/fleet-fixture.ts';
import { startPrivateRedis, type PrivateRedis } from '../src/private-redis.ts';

const SHARED_REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

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

async function metric(url: string, pattern: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : undefined;
}

describe('gateway fleet (real processes)', () => {
  describe('global rate limits', () => {
    let fleet: Fleet;
    beforeAll(async () => {
      await requireRedis(SHARED_REDIS);
      // 10 at once, then one request per 10 s: a short run can admit at most ~10 in total.
      fleet = await startFleet({ v1Replicas: 1, policies: [{ name: 'tenant', per: 'tenant', rate: 1, period_seconds: 10, burst: 10 }] });
    });
    afterAll(async () => fleet?.close());

    it('two gateways sharing Redis together admit no more than the policy allows', async () => {
      const [a, b] = await Promise.all([fleet.startGateway({ REDIS_URL: SHARED_REDIS }), fleet.startGateway({ REDIS_URL: SHARED_REDIS })]);
      const started = Date.now();
      const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => inferRequest((i % 2 ? a : b).url)));
      const elapsedS = (Date.now() - started) / 1000;
      const statuses = responses.map((r) => r.status);
      const admitted = statuses.filter((s) => s === 200).length;
      expect(admitted).toBeGreaterThanOrEqual(10);
      expect(admitted).toBeLessThanOrEqual(10 + Math.ceil(elapsedS / 10));
      expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
      const ok = responses.find((r) => r.status === 200);
      const limited = responses.find((r) => r.status === 429);
      expect(ok?.headers.get('ratelimit-policy')).toBe('"tenant";q=1;w=10');
      expect(ok?.headers.get('ratelimit')).toMatch(/^"tenant";r=\d+;t=\d+$/);
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited?.json()).toEqual({ error: expect.stringMatching(/^rate limit 'tenant' exceeded/) as unknown });
    });
  });

  describe('when Redis fails', () => {
    let fleet: Fleet;
    let redis: PrivateRedis;
    beforeAll(async () => {
      redis = await startPrivateRedis();
      // Each request leaves its bucket in Redis for 0.6 s or more, long enough to see it there.
      fleet = await startFleet({ v1Replicas: 1, policies: [{ name: 'tenant', per: 'tenant', rate: 100, period_seconds: 60, burst: 1000 }] });
    });
    afterAll(async () => {
      await fleet?.close();
      await redis?.stop();
    });

    it('keeps serving under per-replica limits while Redis is down, and limits globally again once it returns', async () => {
      const gateway = await fleet.startGateway({ REDIS_URL: redis.url });
      const storeHealthy = /^switchyard_gateway_rate_limit_store_healthy (\d)$/m;
      expect((await inferRequest(gateway.url)).status).toBe(200);
      expect(await metric(gateway.url, storeHealthy)).toBe(1);

      await redis.stop();
      const during = await Promise.all(Array.from({ length: 20 }, () => inferRequest(gateway.url).then((r) => r.status)));
      expect(during).toEqual(Array(20).fill(200));
      expect(await metric(gateway.url, storeHealthy)).toBe(0);

      await redis.start();
      // Requests keep succeeding while the gateway reconnects on its own.
      const healthy = await eventually(async () => {
        expect((await inferRequest(gateway.url)).status).toBe(200);
        return metric(gateway.url, storeHealthy);
      }, (value) => value === 1, 60_000, 100);
      expect(healthy).toBe(1);
      const client = new Redis(redis.url);
      const keys = await client.keys('*rl:tenant:acme');
      client.disconnect();
      expect(keys.length).toBe(1);
    });
  });

  describe('failover', () => {
    let fleet: Fleet;
    beforeAll(async () => {
      fleet = await startFleet({ v1Replicas: 2 });
    });
    afterAll(async () => fleet?.close());

    it('serves every request while workers die under load, and answers 503 once none is left', async () => {
      const gateway = await fleet.startGateway();
      const statuses: number[] = [];
      let sent = 0;
      const client = async (id: number) => {
        while (sent < 300) {
          sent++;
          statuses.push((await inferRequest(gateway.url, { 'x-switchyard-user': `user-${id}-${sent % 7}` })).status);
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, (_, i) => client(i)));
      await eventually(() => statuses.length, (n) => n >= 30, 60_000);
      fleet.workers.v2[0]?.child.kill('SIGKILL'); // the candidate: its users fall back to stable
      await eventually(() => statuses.length, (n) => n >= 100, 60_000);
      fleet.workers.v1[0]?.child.kill('SIGKILL'); // one stable replica: the other takes over
      await load;
      expect(statuses.filter((s) => s !== 200)).toEqual([]);

      fleet.workers.v1[1]?.child.kill('SIGKILL');
      await fleet.workers.v1[1]?.exited;
      const res = await inferRequest(gateway.url);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/no healthy upstream for model 'seed-classifier'/);
      // The model is unready; the gateway itself stays ready for other models.
      const modelReady = await eventually(
        async () => (await fetch(`${gateway.url}/v2/models/seed-classifier/ready`, { headers: { authorization: `Bearer ${FLEET_KEY}` } })).status,
        (status) => status === 503,
      );
      expect(modelReady).toBe(503);
      expect((await fetch(`${gateway.url}/v2/health/ready`)).status).toBe(200);
    });
  });

  describe('bad input', () => {
    let fleet: Fleet;
    beforeAll(async () => {
      fleet = await startFleet({ v1Replicas: 1 });
    });
    afterAll(async () => fleet?.close());

    it('never answers 5xx to random headers, paths and bodies', async () => {
      const gateway = await fleet.startGateway();
      const header = fc.oneof(fc.constant(`Bearer ${FLEET_KEY}`), fc.string(), fc.constant('Bearer '), fc.string().map((s) => `Bearer ${s}`));
      const path = fc.oneof(
        fc.constantFrom('/v2/models/seed-classifier/infer', '/v2/models/seed-classifier/versions/1/infer', '/v1/models/seed-classifier:predict', '/v2/models/x/infer'),
        fc.webPath(),
        fc.string().map((s) => `/v2/models/${encodeURIComponent(s)}/infer`),
      );
      const body = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string(), fc.constant('{"inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":[1,2]}]}'));
      await fc.assert(
        fc.asyncProperty(header, path, body, fc.constantFrom('GET', 'POST', 'PUT'), fc.option(fc.string({ maxLength: 40 })), async (auth, p, b, method, user) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (/^[\t\x20-\x7e]*$/.test(auth)) headers.authorization = auth;
          if (user !== null && /^[\t\x20-\x7e]*$/.test(user)) headers['x-switchyard-user'] = user;
          const res = await fetch(`${gateway.url}${p.startsWith('/') ? p : `/${p}`}`, { method, headers, ...(method === 'GET' ? {} : { body: b }) });
          const text = await res.text();
          expect(res.status, `${method} ${p} → ${res.status} ${text}`).toBeLessThan(500);
          if (res.status >= 400) expect(typeof (JSON.parse(text) as { error?: unknown }).error).toBe('string');
        }),
        { numRuns: 300 },
      );
    });
  });
});
