/**
 * Redis for tests: `REDIS_URL` or 127.0.0.1:6379, with a fresh key prefix
 * per run. Fails loudly when Redis is unreachable — never a silent skip.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function connectTestRedis(): Promise<{ redis: Redis; prefix: string; close(): Promise<void> }> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new Error(`these tests need Redis at ${TEST_REDIS_URL} (set REDIS_URL): ${(error as Error).message}`);
  }
  const prefix = `switchyard-test:${randomUUID()}:`;
  return {
    redis,
    prefix,
    async close() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}
