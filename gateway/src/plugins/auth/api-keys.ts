/**
 * API keys, stored only as SHA-256 digests. A presented key is hashed and
 * looked up by digest; the digests are then compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../../config/fleet-config.ts';
import type { Principal } from '../../principal.ts';

export function digestOf(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export type ApiKeyVerifier = (presented: string) => Principal | undefined;

export function apiKeyVerifier(keys: readonly ApiKeyConfig[]): ApiKeyVerifier {
  const byDigest = new Map<string, { digest: Buffer; principal: Principal }>();
  for (const key of keys) {
    byDigest.set(key.sha256, {
      digest: Buffer.from(key.sha256, 'hex'),
      principal: { subject: key.subject ?? key.id, tenant: key.tenant, scopes: key.scopes, method: 'api_key', keyId: key.id },
    });
  }
  return function verifyApiKey(presented) {
    const digest = digestOf(presented);
    const entry = byDigest.get(digest.toString('hex'));
    // Equal lengths by construction (both SHA-256), as timingSafeEqual requires.
    return entry && timingSafeEqual(entry.digest, digest) ? entry.principal : undefined;
  };
}
