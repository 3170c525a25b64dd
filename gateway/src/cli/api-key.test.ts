import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../config/load-fleet-config.ts';
import { mintApiKey } from './api-key.ts';

describe('minting API keys', () => {
  it('returns a fresh random key and the SHA-256 digest the config stores', () => {
    const a = mintApiKey('my-app', 'acme', ['infer:*']);
    const b = mintApiKey('my-app', 'acme', ['infer:*']);
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^sy_[\w-]{43}$/);
    expect(a.entry.sha256).toBe(createHash('sha256').update(a.key).digest('hex'));
    expect(JSON.stringify(a.entry)).not.toContain(a.key);
  });

  it('produces an entry the fleet config accepts', () => {
    const { entry } = mintApiKey('my-app', 'acme', ['infer:seed-classifier']);
    const config = parseFleetConfig(
      { version: 1, auth: { api_keys: [entry] }, models: { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 100, port: 9999 }] } } },
      'test',
    );
    expect(config.auth.api_keys[0]).toEqual(entry);
  });
});
