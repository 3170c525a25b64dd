/**
 * The gateway's Redis connection (rate-limit decisions, flag writes,
 * rollout lease): fails fast while Redis is away (the fallback limiter
 * takes over) and reconnects in the background. Auto-pipelining sends the
 * commands issued in one event-loop turn — under load, many requests'
 * rate-limit decisions — in one write.
 */
import type { Logger } from '@switchyard/observability/logger';
import { Redis } from 'ioredis';

export async function connectRedis(url: string, logger: Logger, timeoutMs: number, commandTimeoutMs: number): Promise<Redis> {
  const redis = new Redis(url, {
    // Fail fast while Redis is away (the fallback limiter takes over); reconnect in the background.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    // Rate-limit decisions made in the same event-loop turn go to Redis in one write (one pipeline).
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  });
  let reported = false;
  redis.on('error', (error: Error) => {
    // Reported once per outage; the rate limiter's store health and the flag store carry the state.
    if (!reported) logger.warn({ error: error.message }, 'Redis connection error');
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) logger.info({}, 'Redis connection restored');
    reported = false;
  });
  // Start with Redis connected when it is there; without it, start anyway on the fallback.
  let timer: NodeJS.Timeout | undefined;
  const connected = await Promise.race([
    new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (!connected) logger.warn({}, 'Redis is not reachable yet; rate limits are per replica until it is');
  return redis;
}

/**
 * The flag store's pub/sub connection beside `redis`: it queues commands
 * while Redis is away and retries them (a subscription must survive an
 * outage), and sends each command as it comes — no auto-pipelining, which
 * is for the request path's many small commands.
 */
export function subscriberFor(redis: Redis): Redis {
  return redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, enableAutoPipelining: false });
}
