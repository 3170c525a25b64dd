#!/usr/bin/env node
/**
 * `npm run mint-key -- --id <id> --tenant <tenant> --scopes infer:*,variant:override [--config switchyard.yaml]`
 * Prints a new API key once. Only its SHA-256 goes into the config: with
 * `--config` the entry is added to that file (comments kept), otherwise the
 * YAML to paste is printed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isSeq, parseDocument, stringify } from 'yaml';
import { mintApiKey } from './api-key.ts';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    tenant: { type: 'string' },
    scopes: { type: 'string', default: 'infer:*' },
    config: { type: 'string' },
  },
});
if (!values.id || !values.tenant) {
  console.error('usage: mint-key --id <id> --tenant <tenant> [--scopes infer:*,variant:override] [--config switchyard.yaml]');
  process.exit(2);
}
const scopes = values.scopes.split(',').map((s) => s.trim()).filter(Boolean);
const { key, entry } = mintApiKey(values.id, values.tenant, scopes);

if (values.config) {
  const document = parseDocument(await readFile(values.config, 'utf8'));
  const existing = document.getIn(['auth', 'api_keys']);
  const current = isSeq(existing) ? (existing.toJSON() as Array<{ id?: string }>) : [];
  if (current.some((k) => k.id === entry.id)) {
    console.error(`${values.config}: a key with id '${entry.id}' already exists`);
    process.exit(1);
  }
  if (!isSeq(existing)) document.setIn(['auth', 'api_keys'], document.createNode([]));
  const list = document.getIn(['auth', 'api_keys']);
  if (isSeq(list)) list.flow = false; // `api_keys: []` becomes a block list
  document.addIn(['auth', 'api_keys'], document.createNode(entry));
  await writeFile(values.config, document.toString());
  console.log(`Added key '${entry.id}' (digest only) to ${values.config}; a running gateway picks it up on reload.`);
} else {
  console.log(`Add to auth.api_keys in switchyard.yaml:\n${stringify([entry])}`);
}
console.log(`\nAPI key (shown once, not stored anywhere):\n  ${key}`);
