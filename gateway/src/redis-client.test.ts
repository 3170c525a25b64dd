import { randomUUID } from 'node:crypto';
import { createLogger } from '@switchyard/observability/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimitStore } from './plugins/rate-limit/redis-store.ts';
import { connectRedis, subscriberFor } from './redis-client.ts';
import type { Redis } from 'ioredis';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe("the gateway's Redis connection", () => {
  let redis: Redis;
  const prefix = `switchyard-test:${randomUUID()}:`;
  beforeAll(async () => {
    redis = await connectRedis(REDIS_URL, createLogger({ service: 't', level: 'silent' }), 3000, 1000);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('sends the rate-limit decisions of one event-loop turn as one pipeline, each with its own answer', async () => {
    const store = new RedisRateLimitStore(redis, prefix);
    const decisions = Array.from({ length: 10 }, (_, i) => store.check([{ key: `k${i % 2}`, intervalMs: 1000, burst: 3 }]));
    // Queued for one write, not sent one by one.
    expect(redis.autoPipelineQueueSize).toBe(10);
    const outcomes = await Promise.all(decisions);
    // Each key allows its burst (3) and refuses the other two: the decisions were made in order, one by one, in Redis.
    for (const key of [0, 1]) expect(outcomes.filter((_, i) => i % 2 === key).map((o) => o[0]?.allowed)).toEqual([true, true, true, false, false]);
  });

  it('gives the flag store a subscriber connection that sends each command as it comes', async () => {
    const subscriber = subscriberFor(redis);
    try {
      const replies = [subscriber.ping(), subscriber.ping()];
      expect(subscriber.autoPipelineQueueSize).toBe(0);
      expect(await Promise.all(replies)).toEqual(['PONG', 'PONG']);
    } finally {
      subscriber.disconnect();
    }
  });
});
