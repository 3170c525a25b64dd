/** Minting API keys: a random secret for the caller, its digest for the config. */
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyConfig } from '../config/fleet-config.ts';

export interface MintedKey {
  /** Shown once; never stored by Switchyard. */
  key: string;
  entry: ApiKeyConfig;
}

export function mintApiKey(id: string, tenant: string, scopes: readonly string[]): MintedKey {
  const key = `sy_${randomBytes(32).toString('base64url')}`;
  const sha256 = createHash('sha256').update(key, 'utf8').digest('hex');
  return { key, entry: { id, sha256, tenant, scopes: [...scopes] } };
}
