/**
 * The local fleet's development API key: random per start, written to
 * `.switchyard/dev-api-key` (readable by the owner only) so scripts and the
 * README's curl can use it; the gateway receives only its SHA-256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DevKey {
  key: string;
  sha256: string;
  path: string;
}

export async function mintDevKey(path: string): Promise<DevKey> {
  const key = `sy_dev_${randomBytes(24).toString('base64url')}`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  return { key, sha256: createHash('sha256').update(key).digest('hex'), path };
}
