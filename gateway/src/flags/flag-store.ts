/**
 * The flag store: per model, the current rollout state in memory (so
 * routing never waits on it), changed through versioned, audited writes
 * that reach every replica.
 */
import type { AuditEntry, RolloutState, StoredRollout } from './rollout-state.ts';

export interface FlagStoreStatus {
  /** False while the shared store (Redis) is unreachable: values may be stale. */
  connected: boolean;
  /** When the last full synchronisation finished (ms since epoch). */
  lastSyncAt: number;
}

export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
}

/** The shared store (Redis) could not be read or written; try again once it is back. */
export class FlagStoreUnavailable extends Error {
  override name = 'FlagStoreUnavailable';

  constructor(cause: unknown) {
    super(`the flag store is unavailable (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

export interface FlagChange {
  model: string;
  rollout: StoredRollout;
}

export interface FlagStore {
  /** The current state of a model (from memory). */
  get(model: string): StoredRollout | undefined;
  models(): string[];
  /**
   * Writes a new state if the stored version is still `expectedVersion`
   * (0: must not exist yet); audits and publishes it.
   * @throws VersionConflictError when someone else wrote first.
   * @throws FlagStoreUnavailable when the shared store cannot be reached.
   */
  set(model: string, state: RolloutState, expectedVersion: number, actor: string, reason: string): Promise<StoredRollout>;
  /** @throws FlagStoreUnavailable when the shared store cannot be reached. */
  history(model: string, limit?: number): Promise<AuditEntry[]>;
  /** Called for every change this replica learns of, its own included. */
  onChange(listener: (change: FlagChange) => void): void;
  status(): FlagStoreStatus;
  close(): Promise<void>;
}
