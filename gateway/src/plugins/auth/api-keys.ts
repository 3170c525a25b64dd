/**
 * API keys, stored only as SHA-256 digests. A presented key is hashed and
 * looked up by digest; the digests are then compared in constant time.
 *
 * node:crypto rather than Web Crypto: hashing is synchronous, so the hot
 * path pays no promise per request; Node and Deno both provide it.
 * Looking the digest up in a Map is not constant-time, but what it could
 * leak is a digest prefix of a 256-bit random key, which helps no attacker.
 */
import * as nodeCrypto from 'node:crypto';
import type { ApiKeyConfig } from '@switchyard/fleet-config/schema';
import { apiKeyIdentity, type Principal } from '../../principal.ts';

export type ApiKeyVerifier = (presented: string) => Principal | undefined;

/** Node's one-shot `crypto.hash` (20.12+) skips the Hash object `createHash` builds per call; runtimes without it use `createHash`. */
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

function digestOf(key: string): Buffer {
  return oneShot ? oneShot('sha256', key, 'buffer') : nodeCrypto.createHash('sha256').update(key, 'utf8').digest();
}

/** Builds the digest table once; throws at start-up if two ids share a key. */
export function apiKeyVerifier(keys: readonly ApiKeyConfig[]): ApiKeyVerifier {
  const byDigest = new Map<string, { digest: Buffer; principal: Principal }>();
  for (const key of keys) {
    const clash = byDigest.get(key.sha256);
    if (clash) throw new Error(`auth: API keys '${clash.principal.keyId ?? ''}' and '${key.id}' have the same sha256`);
    byDigest.set(key.sha256, {
      digest: Buffer.from(key.sha256, 'hex'),
      principal: { subject: key.subject ?? key.id, tenant: key.tenant, scopes: key.scopes, method: 'api_key', keyId: key.id, identity: apiKeyIdentity(key.id) },
    });
  }
  return function verifyApiKey(presented) {
    const digest = digestOf(presented);
    const entry = byDigest.get(digest.toString('hex'));
    // Both are SHA-256 digests, so the lengths are equal, as timingSafeEqual requires.
    return entry && nodeCrypto.timingSafeEqual(entry.digest, digest) ? entry.principal : undefined;
  };
}
