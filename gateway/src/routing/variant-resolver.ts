/**
 * Where routing gets a request's variant. Without flags: the sticky split
 * of the config's weights. With flags: an OpenFeature evaluation of the
 * model's `variant.<model>` flag, backed by the flag store.
 */
import type { Client } from '@openfeature/server-sdk';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { evaluateRollout, type RolloutContext } from '../flags/evaluate-rollout.ts';
import { VARIANT_FLAG_PREFIX } from '../flags/openfeature-provider.ts';
import { stateFromConfig } from '../flags/seed-flags.ts';
import type { RolloutState } from '../flags/rollout-state.ts';

export interface VariantResolution {
  variant: string;
  /** OpenFeature reason: SPLIT, TARGETING_MATCH, DISABLED, STALE, DEFAULT, ERROR… */
  reason: string;
  /** Version of the flag state that decided, when flags are in use. */
  flagVersion?: number;
}

export interface VariantResolver {
  resolve(model: string, stable: string, context: RolloutContext): Promise<VariantResolution>;
}

/** The weights written in `switchyard.yaml`, split stickily. */
export function configResolver(config: FleetConfig): VariantResolver {
  const states = new Map<string, RolloutState>(Object.entries(config.models).map(([name, model]) => [name, stateFromConfig(model)]));
  return {
    resolve(model, stable, context) {
      const state = states.get(model);
      if (!state) return Promise.resolve({ variant: stable, reason: 'DEFAULT' });
      const { variant, reason } = evaluateRollout(model, state, context);
      return Promise.resolve({ variant, reason });
    },
  };
}

/** Flags through OpenFeature; the stable variant when evaluation fails. */
export function flagResolver(client: Client): VariantResolver {
  return {
    async resolve(model, stable, context) {
      const evaluation: Record<string, string> = {};
      for (const [key, value] of Object.entries(context)) if (value !== undefined) evaluation[key] = value;
      const details = await client.getStringDetails(`${VARIANT_FLAG_PREFIX}${model}`, stable, evaluation);
      const version = details.flagMetadata.version;
      return { variant: details.value, reason: details.reason ?? 'UNKNOWN', ...(typeof version === 'number' ? { flagVersion: version } : {}) };
    },
  };
}
