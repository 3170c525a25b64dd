/**
 * Leadership for driving rollouts: exactly one replica holds a Redis lease
 * with an expiry and renews it; when the holder dies the lease lapses and
 * another replica takes it. Without Redis the single replica always leads.
 */
import type { Redis } from 'ioredis';

export interface Lease {
  /** Takes or renews the lease; true while this replica holds it. */
  acquire(): Promise<boolean>;
  holder(): Promise<string | undefined>;
  release(): Promise<void>;
}

const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type LeaseRedis = Redis & {
  switchyardLeaseRenew(key: string, id: string, ttl: number): Promise<number>;
  switchyardLeaseRelease(key: string, id: string): Promise<number>;
};

export function redisLease(redis: Redis, key: string, id: string, ttlMs: number): Lease {
  const r = redis as LeaseRedis;
  r.defineCommand('switchyardLeaseRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
  r.defineCommand('switchyardLeaseRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  return {
    async acquire() {
      try {
        return (await r.switchyardLeaseRenew(key, id, ttlMs)) === 1;
      } catch {
        return false; // Redis away: nobody can be sure to lead, so nobody does.
      }
    },
    async holder() {
      return (await redis.get(key)) ?? undefined;
    },
    async release() {
      await r.switchyardLeaseRelease(key, id).catch(() => 0);
    },
  };
}

export function localLease(id: string): Lease {
  return { acquire: () => Promise.resolve(true), holder: () => Promise.resolve(id), release: () => Promise.resolve() };
}
