/**
 * Completes a freshly read fleet config with what lives outside the file:
 * API keys from a separate file (a mounted Secret) and the local fleet's
 * development key. Used at start-up and on every reload.
 */
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { withApiKeysFile } from './api-keys-file.ts';
import { withDevKey } from './dev-key.ts';
import type { GatewayEnv } from './gateway-env.ts';

export function completeConfig(env: Pick<GatewayEnv, 'apiKeysFile' | 'devKeySha256'>): (config: FleetConfig) => Promise<FleetConfig> {
  return async (config) => withDevKey(await withApiKeysFile(config, env.apiKeysFile), env.devKeySha256);
}
