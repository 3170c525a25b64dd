/** The local fleet's development key, added to whatever the config lists. */
import type { FleetConfig } from '@switchyard/fleet-config/schema';

export const DEV_KEY_ID = 'dev';

export function withDevKey(config: FleetConfig, sha256: string | undefined): FleetConfig {
  if (!sha256 || config.auth.api_keys.some((k) => k.id === DEV_KEY_ID)) return config;
  const devKey = { id: DEV_KEY_ID, sha256, tenant: 'dev', scopes: ['infer:*', 'variant:override', 'admin'] };
  return { ...config, auth: { ...config.auth, api_keys: [...config.auth.api_keys, devKey] } };
}
