/**
 * Flags in Redis, shared by every gateway replica. Each replica keeps all
 * states in memory and subscribes to a change channel: a write (one Lua
 * script: version check, store, audit, publish) reaches every replica in
 * one pub/sub hop. On every (re)connection the replica re-reads all states,
 * so no change is missed; while Redis is away it serves what it last knew.
 */
import type { Redis } from 'ioredis';
import { FlagStoreUnavailable, VersionConflictError, type FlagChange, type FlagStore, type FlagStoreStatus } from './flag-store.ts';
import { RolloutStateSchema, type AuditEntry, type RolloutState, type StoredRollout } from './rollout-state.ts';

const HISTORY_LIMIT = 1000;

/** KEYS: state hash, audit list, index set. ARGV: expected version, record json, audit json (with VERSION placeholder), channel, model. */
const WRITE_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
local version = current + 1
local record = string.gsub(ARGV[2], '"version":%-1', '"version":' .. version, 1)
redis.call('HSET', KEYS[1], 'version', version, 'record', record)
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('LPUSH', KEYS[2], (string.gsub(ARGV[3], '"version":%-1', '"version":' .. version, 1)))
redis.call('LTRIM', KEYS[2], 0, ${HISTORY_LIMIT - 1})
redis.call('PUBLISH', ARGV[4], record)
return {1, version}
`;

interface Record {
  model: string;
  version: number;
  updatedAt: number;
  updatedBy: string;
  state: RolloutState;
}

type FlagRedis = Redis & { switchyardFlagWrite(k1: string, k2: string, k3: string, ...argv: Array<string | number>): Promise<[number, number]> };

export interface RedisFlagStoreOptions {
  /** Commands (reads and writes). */
  redis: Redis;
  /** A second connection, used only to subscribe. */
  subscriber: Redis;
  prefix: string;
  onError?: (error: unknown) => void;
}

export class RedisFlagStore implements FlagStore {
  readonly #redis: FlagRedis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #rollouts = new Map<string, StoredRollout>();
  readonly #listeners: Array<(change: FlagChange) => void> = [];
  readonly #onError: (error: unknown) => void;
  #connected = false;
  #closed = false;
  #lastSyncAt = 0;

  private constructor(options: RedisFlagStoreOptions) {
    this.#redis = options.redis as FlagRedis;
    this.#redis.defineCommand('switchyardFlagWrite', { numberOfKeys: 3, lua: WRITE_SCRIPT });
    this.#subscriber = options.subscriber;
    this.#prefix = options.prefix;
    this.#channel = `${options.prefix}flags:changed`;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Connects, subscribes and loads every state; resolves once synchronised (or Redis proved unreachable). */
  static async open(options: RedisFlagStoreOptions): Promise<RedisFlagStore> {
    const store = new RedisFlagStore(options);
    await store.#start();
    return store;
  }

  async #start(): Promise<void> {
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#apply(message);
    });
    // Every (re)connection: subscribe again, then re-read everything missed meanwhile.
    this.#subscriber.on('ready', () => void this.#resync());
    this.#subscriber.on('close', () => (this.#connected = false));
    this.#subscriber.on('error', (error) => this.#onError(error));
    if (this.#subscriber.status === 'ready') await this.#resync();
    else await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      timer.unref();
      this.#subscriber.once('ready', () => {
        clearTimeout(timer);
        // The resync started by the 'ready' listener above; wait for it.
        const check = setInterval(() => {
          if (this.#connected) {
            clearInterval(check);
            resolve();
          }
        }, 5);
      });
    });
  }

  async #resync(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.#channel);
      const models = await this.#redis.smembers(`${this.#prefix}flags:index`);
      const records = await Promise.all(models.map((m) => this.#redis.hget(this.#key(m), 'record')));
      const stored = new Set<string>();
      // What Redis holds is authoritative, whatever versions this replica saw before.
      for (const record of records) if (record) stored.add(this.#apply(record, true) ?? '');
      // Redis lost states it had (e.g. restarted without persistence): put back the last known ones.
      for (const [model, rollout] of this.#rollouts) {
        if (stored.has(model)) continue;
        await this.set(model, rollout.state, 0, 'switchyard', 'restored after the flag store lost it').catch((error: unknown) => {
          if (!(error instanceof VersionConflictError)) throw error;
        });
      }
      this.#connected = true;
      this.#lastSyncAt = Date.now();
    } catch (error) {
      this.#onError(error);
      // The command connection may come back after the subscriber: try again shortly.
      if (!this.#closed && this.#subscriber.status === 'ready') setTimeout(() => void this.#resync(), 250).unref();
    }
  }

  #key(model: string): string {
    return `${this.#prefix}flags:${model}`;
  }

  /** Applies a stored record; stale or repeated versions are ignored unless `authoritative`. Returns the model. */
  #apply(json: string, authoritative = false): string | undefined {
    let record: Record;
    try {
      record = JSON.parse(json) as Record;
      record.state = RolloutStateSchema.parse(record.state);
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
    const current = this.#rollouts.get(record.model);
    if (current && (authoritative ? current.version === record.version && current.updatedAt === record.updatedAt : current.version >= record.version)) return record.model;
    const rollout: StoredRollout = { state: record.state, version: record.version, updatedAt: record.updatedAt, updatedBy: record.updatedBy };
    this.#rollouts.set(record.model, rollout);
    for (const listener of this.#listeners) listener({ model: record.model, rollout });
    return record.model;
  }

  get(model: string): StoredRollout | undefined {
    return this.#rollouts.get(model);
  }

  models(): string[] {
    return [...this.#rollouts.keys()];
  }

  async set(model: string, state: RolloutState, expectedVersion: number, actor: string, reason: string): Promise<StoredRollout> {
    const updatedAt = Date.now();
    const record: Record = { model, version: -1, updatedAt, updatedBy: actor, state };
    const old = this.#rollouts.get(model)?.state ?? null;
    const audit: AuditEntry = { model, version: -1, at: updatedAt, actor, reason, old, new: state };
    let ok: number;
    let version: number;
    try {
      [ok, version] = await this.#redis.switchyardFlagWrite(
        this.#key(model), `${this.#prefix}flags:audit:${model}`, `${this.#prefix}flags:index`,
        expectedVersion, JSON.stringify(record), JSON.stringify(audit), this.#channel, model,
      );
    } catch (error) {
      throw new FlagStoreUnavailable(error);
    }
    if (ok !== 1) throw new VersionConflictError(`'${model}' is at version ${version}, not ${expectedVersion}`);
    // Our own successful write is the latest state, whatever version this replica saw before.
    this.#apply(JSON.stringify({ ...record, version }), true);
    return { state, version, updatedAt, updatedBy: actor };
  }

  async history(model: string, limit = 50): Promise<AuditEntry[]> {
    let entries: string[];
    try {
      entries = await this.#redis.lrange(`${this.#prefix}flags:audit:${model}`, 0, limit - 1);
    } catch (error) {
      throw new FlagStoreUnavailable(error);
    }
    return entries.map((e) => JSON.parse(e) as AuditEntry);
  }

  onChange(listener: (change: FlagChange) => void): void {
    this.#listeners.push(listener);
  }

  status(): FlagStoreStatus {
    return { connected: this.#connected && this.#subscriber.status === 'ready', lastSyncAt: this.#lastSyncAt };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.length = 0;
    this.#subscriber.disconnect();
    return Promise.resolve();
  }
}
