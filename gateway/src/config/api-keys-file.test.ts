import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withApiKeysFile } from './api-keys-file.ts';
import { parseFleetConfig } from '@switchyard/fleet-config/load';

const digest = 'a'.repeat(64);
const config = parseFleetConfig(
  { version: 1, auth: { api_keys: [{ id: 'ops', sha256: digest, tenant: 't', scopes: ['admin'] }] }, models: { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 100, port: 9000 }] } } },
  'test',
);

describe('API keys file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-keys-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('adds its keys to the config', async () => {
    await writeFile(join(dir, 'ok.yaml'), `api_keys:\n  - { id: app, sha256: ${'b'.repeat(64)}, tenant: acme, scopes: ["infer:*"] }\n`);
    const merged = await withApiKeysFile(config, join(dir, 'ok.yaml'));
    expect(merged.auth.api_keys.map((k) => k.id)).toEqual(['ops', 'app']);
    expect(await withApiKeysFile(config, undefined)).toBe(config);
  });

  it('refuses duplicate ids, invalid entries and missing files, naming the file', async () => {
    await writeFile(join(dir, 'dup.yaml'), `api_keys:\n  - { id: ops, sha256: ${'c'.repeat(64)}, tenant: acme, scopes: ["infer:*"] }\n`);
    await expect(withApiKeysFile(config, join(dir, 'dup.yaml'))).rejects.toThrowError(/dup\.yaml: key id 'ops' is also in the fleet config/);
    await writeFile(join(dir, 'bad.yaml'), 'api_keys:\n  - { id: x, sha256: nothex, tenant: acme, scopes: [] }\n');
    await expect(withApiKeysFile(config, join(dir, 'bad.yaml'))).rejects.toThrowError(/bad\.yaml: invalid API keys file:[\s\S]*api_keys\.0\.sha256/);
    await expect(withApiKeysFile(config, join(dir, 'missing.yaml'))).rejects.toThrowError(/missing\.yaml: cannot read API keys/);
  });
});
