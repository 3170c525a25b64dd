/**
 * Where routing gets each model's variant weights. Today: the fleet config.
 * Feature flags will implement the same interface to change weights live.
 */
import type { FleetConfig } from '../config/fleet-config.ts';
import type { WeightedVariant } from './sticky-split.ts';

export interface ModelWeights {
  stable: string;
  variants: readonly WeightedVariant[];
}

export interface WeightSource {
  /** Current weights of `model`, or undefined when it is not configured. */
  weights(model: string): ModelWeights | undefined;
}

/** Weights as written in `switchyard.yaml`. */
export function configWeights(config: FleetConfig): WeightSource {
  const table = new Map<string, ModelWeights>(
    Object.entries(config.models).map(([name, model]) => [
      name,
      { stable: model.stable, variants: model.variants.map((v) => ({ name: v.name, weight: v.weight })) },
    ]),
  );
  return { weights: (model) => table.get(model) };
}
