import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { addKeyToConfig, mintApiKey } from './api-key.ts';

const CONFIG = `# fleet
version: 1
auth:
  # digests only
  api_keys: []
models:
  m: # the one model
    stable: a
    variants: [{ name: a, version: 1, weight: 100, port: 9999 }]
`;

describe('minting API keys', () => {
  it('returns a key whose SHA-256 is the digest in the entry, and never puts the key in the entry', () => {
    const { key, entry } = mintApiKey('my-app', 'acme', ['infer:*']);
    expect(key).toMatch(/^sy_[\w-]{43}$/);
    expect(entry.sha256).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(entry)).not.toContain(key.slice(3));
  });

  it('returns a different key each time', () => {
    const minted = Array.from({ length: 20 }, () => mintApiKey('my-app', 'acme', ['infer:*']).key);
    expect(new Set(minted).size).toBe(20);
  });

  it('produces an entry the fleet config accepts', () => {
    const { entry } = mintApiKey('my-app', 'acme', ['infer:seed-classifier', 'variant:override']);
    const config = parseFleetConfig(parse(CONFIG.replace('api_keys: []', `api_keys: [${JSON.stringify(entry)}]`)), 'test');
    expect(config.auth.api_keys).toEqual([entry]);
  });

  it('refuses an id or scopes the config would reject', () => {
    expect(() => mintApiKey('My App', 'acme', ['infer:*'])).toThrow(/invalid key entry: id:/);
    expect(() => mintApiKey('my-app', 'acme', [])).toThrow(/invalid key entry: scopes:/);
  });
});

describe('adding a key to a config file', () => {
  const minted = (id: string) => mintApiKey(id, 'acme', ['infer:*']).entry;
  const idsIn = (text: string) => parseFleetConfig(parse(text), 'test').auth.api_keys.map((k) => k.id);

  it('turns an empty api_keys: [] into a block list and leaves every other line as it was', () => {
    const source = CONFIG.replace('api_keys: []', 'api_keys: []        # aligned comment');
    const entry = minted('my-app');
    const text = addKeyToConfig(source, entry);
    const entryYaml = `    - id: my-app\n      sha256: ${entry.sha256}\n      tenant: acme\n      scopes:\n        - infer:*\n`;
    expect(text).toBe(source.replace('api_keys: []        # aligned comment\n', `api_keys:        # aligned comment\n${entryYaml}`));
  });

  it('appends to an existing block list at its indentation, keeping comments', () => {
    const first = addKeyToConfig(CONFIG, minted('my-app'));
    const second = addKeyToConfig(first, minted('other'));
    expect(second.startsWith(first.slice(0, first.indexOf('models:')))).toBe(true);
    expect(second).toContain('\n    - id: other\n');
    for (const comment of ['# fleet', '# digests only', '# the one model']) expect(second).toContain(comment);
    expect(idsIn(second)).toEqual(['my-app', 'other']);
  });

  it('creates auth.api_keys when the file has none, and extends a non-empty flow list', () => {
    expect(idsIn(addKeyToConfig(CONFIG.replace(/auth:\n.*\n.*\n/, ''), minted('my-app')))).toEqual(['my-app']);
    const flow = CONFIG.replace('api_keys: []', `api_keys: [${JSON.stringify(minted('first'))}]`);
    expect(idsIn(addKeyToConfig(flow, minted('second')))).toEqual(['first', 'second']);
  });

  it('refuses a duplicate id', () => {
    const once = addKeyToConfig(CONFIG, minted('my-app'), 'switchyard.yaml');
    expect(() => addKeyToConfig(once, mintApiKey('my-app', 'other', ['infer:m']).entry, 'switchyard.yaml')).toThrow("switchyard.yaml: a key with id 'my-app' already exists");
  });

  it('refuses a file that is not valid YAML or not a valid fleet config', () => {
    expect(() => addKeyToConfig('auth: [unclosed', minted('my-app'))).toThrow(/not valid YAML/);
    expect(() => addKeyToConfig('version: 2\n', minted('my-app'))).toThrow(/invalid fleet config/);
  });
});
