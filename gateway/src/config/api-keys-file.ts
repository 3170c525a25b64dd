/**
 * API keys kept apart from the fleet config (e.g. a Kubernetes Secret
 * mounted as a file): `api_keys: [{id, sha256, tenant, scopes}]`, merged into
 * `auth.api_keys`. A duplicate id is an error, like any invalid config.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApiKeySchema, type FleetConfig } from '@switchyard/fleet-config/schema';
import { FleetConfigError } from '@switchyard/fleet-config/load';

const ApiKeysFileSchema = z.object({ api_keys: z.array(ApiKeySchema).default([]) }).strict();

export async function withApiKeysFile(config: FleetConfig, path: string | undefined): Promise<FleetConfig> {
  if (!path) return config;
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new FleetConfigError(`${path}: cannot read API keys: ${(error as Error).message}`);
  }
  const result = ApiKeysFileSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new FleetConfigError(`${path}: invalid API keys file:\n${result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  const ids = new Set(config.auth.api_keys.map((k) => k.id));
  for (const key of result.data.api_keys) {
    if (ids.has(key.id)) throw new FleetConfigError(`${path}: key id '${key.id}' is also in the fleet config`);
    ids.add(key.id);
  }
  return { ...config, auth: { ...config.auth, api_keys: [...config.auth.api_keys, ...result.data.api_keys] } };
}
