/** The flag store of a single gateway replica (no `REDIS_URL`). */
import { VersionConflictError, type FlagChange, type FlagStore, type FlagStoreStatus } from './flag-store.ts';
import type { AuditEntry, RolloutState, StoredRollout } from './rollout-state.ts';

const HISTORY_LIMIT = 1000;

export class MemoryFlagStore implements FlagStore {
  readonly #rollouts = new Map<string, StoredRollout>();
  readonly #history = new Map<string, AuditEntry[]>();
  readonly #listeners: Array<(change: FlagChange) => void> = [];
  readonly #startedAt = Date.now();

  get(model: string): StoredRollout | undefined {
    return this.#rollouts.get(model);
  }

  models(): string[] {
    return [...this.#rollouts.keys()];
  }

  set(model: string, state: RolloutState, expectedVersion: number, actor: string, reason: string): Promise<StoredRollout> {
    const current = this.#rollouts.get(model);
    if ((current?.version ?? 0) !== expectedVersion) {
      return Promise.reject(new VersionConflictError(`'${model}' is at version ${current?.version ?? 0}, not ${expectedVersion}`));
    }
    const rollout: StoredRollout = { state, version: expectedVersion + 1, updatedAt: Date.now(), updatedBy: actor };
    this.#rollouts.set(model, rollout);
    const entries = this.#history.get(model) ?? [];
    entries.unshift({ model, version: rollout.version, at: rollout.updatedAt, actor, reason, old: current?.state ?? null, new: state });
    entries.splice(HISTORY_LIMIT);
    this.#history.set(model, entries);
    for (const listener of this.#listeners) listener({ model, rollout });
    return Promise.resolve(rollout);
  }

  history(model: string, limit = 50): Promise<AuditEntry[]> {
    return Promise.resolve((this.#history.get(model) ?? []).slice(0, limit));
  }

  onChange(listener: (change: FlagChange) => void): void {
    this.#listeners.push(listener);
  }

  status(): FlagStoreStatus {
    return { connected: true, lastSyncAt: this.#startedAt };
  }

  close(): Promise<void> {
    this.#listeners.length = 0;
    return Promise.resolve();
  }
}
