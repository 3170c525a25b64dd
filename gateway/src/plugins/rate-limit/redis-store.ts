/**
 * GCRA buckets in Redis, shared by every gateway replica. One decision is
 * one round trip: a Lua script (EVALSHA) reads, decides and writes every
 * bucket of a request atomically, using Redis's clock so replicas agree.
 */
import type { Redis } from 'ioredis';
import type { LimitCheck, LimitOutcome, RateLimitStore } from './gcra.ts';

/** Mirrors `decide` in gcra.ts; returns allowed, remaining, reset ms, retry ms per key. */
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = #KEYS
local out = {}
local tats = {}
local all = 1
for i = 1, n do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - interval * burst
  if now < allow_at then
    all = 0
    out[4 * i - 3] = 0
    out[4 * i - 2] = 0
    out[4 * i - 1] = math.ceil(tat - now)
    out[4 * i] = math.ceil(allow_at - now)
  else
    tats[i] = new_tat
    out[4 * i - 3] = 1
    out[4 * i - 2] = math.floor((now - allow_at) / interval)
    out[4 * i - 1] = math.ceil(new_tat - now)
    out[4 * i] = 0
  end
end
if all == 1 then
  for i = 1, n do
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.max(1, math.ceil(tats[i] - now)))
  end
else
  for i = 1, n do
    if out[4 * i - 3] == 1 then out[4 * i - 2] = out[4 * i - 2] + 1 end
  end
end
return out
`;

type GcraRedis = Redis & { switchyardGcra(numKeys: number, ...args: Array<string | number>): Promise<number[]> };

export class RedisRateLimitStore implements RateLimitStore {
  readonly #redis: GcraRedis;
  readonly #prefix: string;

  /** `prefix` namespaces the keys (e.g. per deployment or test run). */
  constructor(redis: Redis, prefix: string) {
    redis.defineCommand('switchyardGcra', { lua: GCRA_SCRIPT });
    this.#redis = redis as GcraRedis;
    this.#prefix = prefix;
  }

  async check(checks: readonly LimitCheck[]): Promise<LimitOutcome[]> {
    if (checks.length === 0) return [];
    const args: Array<string | number> = checks.map((c) => `${this.#prefix}${c.key}`);
    for (const c of checks) args.push(c.intervalMs, c.burst);
    const raw = await this.#redis.switchyardGcra(checks.length, ...args);
    return checks.map((_, i) => ({
      allowed: raw[4 * i] === 1,
      remaining: raw[4 * i + 1] ?? 0,
      resetMs: raw[4 * i + 2] ?? 0,
      retryAfterMs: raw[4 * i + 3] ?? 0,
    }));
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it.
  }
}
