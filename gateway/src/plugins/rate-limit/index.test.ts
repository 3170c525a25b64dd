import { Hono } from 'hono';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimitPolicyConfig } from '@switchyard/fleet-config/schema';
import { GatewayError } from '../../http/gateway-error.ts';
import { apiKeyIdentity, jwtIdentity, type Principal } from '../../principal.ts';
import { connectTestRedis } from '../../testing/test-redis.ts';
import type { LimitCheck, RateLimitStore } from './gcra.ts';
import { rateLimit, type RateLimitOptions } from './index.ts';
import { MemoryRateLimitStore } from './memory-store.ts';
import { RedisRateLimitStore } from './redis-store.ts';

const principal = (tenant: string, subject = 'u1'): Principal => ({ subject, tenant, scopes: ['infer:*'], method: 'api_key', keyId: subject, identity: apiKeyIdentity(subject) });

function app(options: Omit<RateLimitOptions, 'modelOf'>, who: Principal = principal('acme')): Hono {
  const a = new Hono();
  a.onError((error, c) => (error instanceof GatewayError ? c.json({ error: error.message }, error.status, error.headers) : c.json({ error: 'internal' }, 500)));
  a.use(async (c, next) => {
    c.set('principal', who);
    await next();
  });
  a.use(rateLimit({ ...options, modelOf: () => 'seed-classifier' }));
  a.get('/', (c) => c.json({ ok: true }));
  return a;
}

const policy = (overrides: Partial<RateLimitPolicyConfig> = {}): RateLimitPolicyConfig => ({ name: 'tenant', per: 'tenant', rate: 10, period_seconds: 1, burst: 10, ...overrides });

describe('rate limit', () => {
  it('admits the burst, then rejects the next request with 429, Retry-After and IETF fields', async () => {
    const a = app({ policies: [policy()], store: new MemoryRateLimitStore() });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await a.request('/');
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses[10]).toBe(429);
    expect(last?.headers.get('retry-after')).toBe('1');
    expect(last?.headers.get('ratelimit-policy')).toBe('"tenant";q=10;w=1');
    expect(last?.headers.get('ratelimit')).toMatch(/^"tenant";r=0;t=1$/);
    expect(await last?.json()).toEqual({ error: "rate limit 'tenant' exceeded; retry in 1 s" });
  });

  it('reports the remaining burst on admitted responses', async () => {
    const a = app({ policies: [policy({ burst: 5, rate: 5 })], store: new MemoryRateLimitStore() });
    const first = await a.request('/');
    expect(first.headers.get('ratelimit')).toBe('"tenant";r=4;t=1');
    expect(first.headers.get('ratelimit-policy')).toBe('"tenant";q=5;w=1');
  });

  it('refills smoothly: no double burst at a window edge', () => {
    let now = 1_000_000;
    const store = new MemoryRateLimitStore(() => now);
    const check: LimitCheck = { key: 'k', intervalMs: 100, burst: 10 };
    const admitted = async (n: number) => (await Promise.all(Array.from({ length: n }, () => store.check([check])))).filter((o) => o[0]?.allowed).length;
    return (async () => {
      expect(await admitted(15)).toBe(10);
      now += 1000; // a fixed 1 s window would now admit 10 again on top; GCRA admits what refilled: 10 over the second
      now += 1; // …and across any 1 s span no more than burst + rate·1s
      expect(await admitted(15)).toBe(10);
      now += 250;
      expect(await admitted(15)).toBe(2);
    })();
  });

  it('keeps tenants apart and charges every applicable policy, all or nothing', async () => {
    const store = new MemoryRateLimitStore();
    const policies = [policy({ name: 'tenant', burst: 3, rate: 3 }), policy({ name: 'key', per: 'api_key', burst: 1, rate: 1 })];
    const acme = app({ policies, store }, principal('acme', 'k1'));
    const other = app({ policies, store }, principal('globex', 'k2'));
    expect((await acme.request('/')).status).toBe(200);
    // The key's bucket (1) is empty now; the refusal must not charge the tenant bucket.
    expect((await acme.request('/')).status).toBe(429);
    expect((await acme.request('/')).status).toBe(429);
    expect((await other.request('/')).status).toBe(200);
    const fresh = app({ policies, store }, principal('acme', 'k3'));
    expect((await fresh.request('/')).status).toBe(200);
    expect((await fresh.request('/')).headers.get('ratelimit')).toMatch(/"tenant";r=\d+;t=\d+, "key";r=0;t=\d+/);
  });

  it('never shares a bucket between an API key and a JWT, or between JWT issuers, with the same name', async () => {
    for (const per of ['api_key', 'subject'] as const) {
      const store = new MemoryRateLimitStore();
      const jwt = (issuer: string): Principal => ({ subject: 'dev', tenant: 'acme', scopes: ['infer:*'], method: 'jwt', issuer, identity: jwtIdentity(issuer, 'dev') });
      const callers = [principal('acme', 'dev'), jwt('https://idp.example'), jwt('https://other.example'), { ...principal('acme', 'dev2'), subject: 'dev' }];
      const first = await Promise.all(callers.map((who) => Promise.resolve(app({ policies: [policy({ name: 'one', per, burst: 1, rate: 1, period_seconds: 3600 })], store }, who).request('/'))));
      const statuses = first.map((r) => r.status);
      // Two API keys naming the same subject do share a per-subject bucket; nothing else does.
      expect(statuses).toEqual(per === 'api_key' ? [200, 200, 200, 200] : [200, 200, 200, 429]);
    }
  });

  it('applies model-scoped policies only to their models', async () => {
    const a = app({ policies: [policy({ burst: 1, rate: 1, models: ['wide-mlp'] })], store: new MemoryRateLimitStore() });
    expect((await a.request('/')).status).toBe(200);
    expect((await a.request('/')).status).toBe(200);
  });

  describe('with Redis', () => {
    let redis: Redis;
    let prefix: string;
    let testRedis: Awaited<ReturnType<typeof connectTestRedis>>;
    beforeAll(async () => {
      testRedis = await connectTestRedis();
      ({ redis, prefix } = testRedis);
    });
    afterAll(async () => testRedis.close());

    it('shares buckets between stores (replicas) and never admits more than the burst at once', async () => {
      const a = new RedisRateLimitStore(redis, prefix);
      const b = new RedisRateLimitStore(redis, prefix);
      const check: LimitCheck = { key: 'shared', intervalMs: 60_000, burst: 20 };
      const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).check([check])));
      expect(outcomes.filter((o) => o[0]?.allowed)).toHaveLength(20);
      const refused = outcomes.find((o) => !o[0]?.allowed)?.[0];
      expect(refused?.retryAfterMs).toBeGreaterThan(0);
      expect(refused?.retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it('decides in one round trip per request, whatever the number of policies', async () => {
      const store = new RedisRateLimitStore(redis, prefix);
      await store.check([{ key: 'warm', intervalMs: 10, burst: 5 }]);
      const sent: string[] = [];
      const original = redis.sendCommand.bind(redis);
      redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
        sent.push(command.name);
        return (original as (...args: unknown[]) => unknown)(command, ...rest);
      });
      try {
        await store.check([{ key: 'rt1', intervalMs: 10, burst: 5 }, { key: 'rt2', intervalMs: 10, burst: 5 }, { key: 'rt3', intervalMs: 10, burst: 5 }]);
      } finally {
        redis.sendCommand = original;
      }
      expect(sent).toEqual(['evalsha']);
    });

    it('falls back to per-replica limits when the store fails, and uses the store again when it answers', async () => {
      let broken = true;
      const real = new RedisRateLimitStore(redis, prefix);
      const flaky: RateLimitStore = {
        check: (checks) => (broken ? Promise.reject(new Error('connection lost')) : real.check(checks)),
        close: () => Promise.resolve(),
      };
      const health: boolean[] = [];
      const a = app({
        policies: [policy({ name: 'fb', burst: 2, rate: 1 })],
        store: flaky,
        fallback: new MemoryRateLimitStore(),
        observer: { decision: () => undefined, storeHealth: (healthy) => health.push(healthy) },
      });
      expect([(await a.request('/')).status, (await a.request('/')).status, (await a.request('/')).status]).toEqual([200, 200, 429]);
      broken = false;
      expect((await a.request('/')).status).toBe(200);
      expect(health).toEqual([false, true]);
    });

    it('fails closed with 503 when so configured', async () => {
      const a = app({
        policies: [policy()],
        store: { check: () => Promise.reject(new Error('down')), close: () => Promise.resolve() },
        onStoreFailure: 'closed',
      });
      const res = await a.request('/');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'rate limiting is unavailable (store unreachable); retry shortly' });
    });
  });
});
