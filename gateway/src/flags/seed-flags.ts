/**
 * First start: a model without flags gets a rollout state from
 * `switchyard.yaml` (its weights and stable variant). From then on the flag
 * store, not the file, decides run-time traffic.
 */
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import type { Logger } from '@switchyard/observability/logger';
import { VersionConflictError, type FlagStore } from './flag-store.ts';
import { RolloutStateSchema, type RolloutState } from './rollout-state.ts';

export function stateFromConfig(model: FleetConfig['models'][string]): RolloutState {
  const candidate = model.variants.find((v) => v.name !== model.stable)?.name;
  return RolloutStateSchema.parse({
    stable: model.stable,
    ...(candidate ? { candidate } : {}),
    weights: Object.fromEntries(model.variants.map((v) => [v.name, v.weight])),
  });
}

/** Seeds every configured model that has no flags yet; returns the seeded names. */
export async function seedFlags(store: FlagStore, config: FleetConfig): Promise<string[]> {
  const seeded: string[] = [];
  for (const [name, model] of Object.entries(config.models)) {
    if (store.get(name)) continue;
    try {
      await store.set(name, stateFromConfig(model), 0, 'switchyard.yaml', 'seeded from switchyard.yaml');
      seeded.push(name);
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error; // another replica seeded it first
    }
  }
  return seeded;
}

/**
 * Seeds as `seedFlags` does, at start-up and on every reload, and says what
 * happened: each seeded model (info), or why seeding failed (warn; routing
 * keeps using what the store has, and the next reload or start tries again).
 * Never rejects.
 */
export async function seedFlagsAndReport(store: FlagStore, config: FleetConfig, logger: Logger): Promise<string[]> {
  let seeded: string[];
  try {
    seeded = await seedFlags(store, config);
  } catch (error) {
    logger.warn({ reason: (error as Error).message, models: Object.keys(config.models) }, 'could not seed flags from switchyard.yaml; routing uses what the flag store has');
    return [];
  }
  for (const model of seeded) logger.info({ model }, 'flags seeded from switchyard.yaml');
  return seeded;
}
