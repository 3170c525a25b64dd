#!/usr/bin/env node
/**
 * `npm run mint-key -- --id <id> --tenant <tenant> --scopes infer:*,variant:override [--config switchyard.yaml]`
 * Prints a new API key once. Only its SHA-256 goes into the config: with
 * `--config` the entry is added to that file (comments kept); either way
 * the YAML entry is printed.
 */
import { readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { addKeyToConfig, mintApiKey } from './api-key.ts';

const USAGE = 'usage: mint-key --id <id> --tenant <tenant> --scopes <scope>[,<scope>...] [--config switchyard.yaml]\n  e.g. --scopes infer:*,variant:override';

function fail(message: string, code: number): never {
  console.error(message);
  process.exit(code);
}

function options(): { id: string; tenant: string; scopes: string[]; config: string | undefined } {
  let values;
  try {
    ({ values } = parseArgs({ options: { id: { type: 'string' }, tenant: { type: 'string' }, scopes: { type: 'string' }, config: { type: 'string' } } }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`, 2);
  }
  const { id, tenant, scopes, config } = values;
  // No default scopes: a key's reach should be a decision, not `infer:*` by omission.
  if (!id || !tenant || !scopes) fail(USAGE, 2);
  return { id, tenant, scopes: scopes.split(',').map((s) => s.trim()).filter(Boolean), config };
}

/** Replaces the file in one rename, so the gateway's config watcher never reads half of it. */
async function replaceFile(path: string, text: string): Promise<void> {
  const target = await realpath(path);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: (await stat(target)).mode, flag: 'wx' });
  await rename(temporary, target);
}

const { id, tenant, scopes, config } = options();
try {
  const { key, entry } = mintApiKey(id, tenant, scopes);
  if (config) {
    await replaceFile(config, addKeyToConfig(await readFile(config, 'utf8'), entry, config));
    console.log(`Added to auth.api_keys in ${config} (digest only; a running gateway picks it up on reload):`);
  } else {
    console.log('Add to auth.api_keys in switchyard.yaml:');
  }
  console.log(stringify([entry]));
  console.log(`API key '${entry.id}' (shown once: Switchyard stores only its SHA-256, so it cannot be shown again):\n  ${key}`);
} catch (error) {
  fail(`mint-key: ${(error as Error).message}`, 1);
}
