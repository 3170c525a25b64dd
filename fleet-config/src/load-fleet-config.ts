/** Reads and validates `switchyard.yaml`, reporting every error with its path. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FleetConfigSchema, type FleetConfig } from './fleet-config.ts';

export class FleetConfigError extends Error {
  override name = 'FleetConfigError';
}

/** Validates already-parsed YAML; `source` names it in errors. */
export function parseFleetConfig(raw: unknown, source: string): FleetConfig {
  const result = FleetConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  - ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  throw new FleetConfigError(`${source}: invalid fleet config:\n${lines.join('\n')}`);
}

export async function loadFleetConfig(path: string): Promise<FleetConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FleetConfigError(`${path}: cannot read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new FleetConfigError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const config = parseFleetConfig(raw, path);
  // Edge-worker modules are named relative to the file that names them.
  for (const worker of Object.values(config.edge_workers)) worker.module = resolve(dirname(path), worker.module);
  return config;
}
