/**
 * The keys JWTs are verified with: a remote JWKS (fetched on first use,
 * cached, refetched on an unknown `kid` at most every 30 s) or an inline
 * one, checked at start-up. A key set that cannot be fetched is the
 * gateway's fault, not the caller's, so it surfaces as KeySetUnavailable
 * (a 503) while an unknown `kid` stays a token problem (a 401).
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '@switchyard/fleet-config/schema';

export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';
}

const REMOTE_CACHE = { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5_000 } as const;

/** Public keys only: a private or symmetric key in the config is a leak or a mistake. */
function checkedKeySet(jwks: JwtConfig['jwks']): JSONWebKeySet {
  if (!jwks) throw new Error('auth: jwt needs jwks_uri or jwks');
  jwks.keys.forEach((jwk, i) => {
    if ('d' in jwk || jwk.kty === 'oct') throw new Error(`auth: jwt.jwks.keys[${i}] is a private or symmetric key; list public keys only`);
    try {
      createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch (error) {
      throw new Error(`auth: jwt.jwks.keys[${i}] is not a usable public key: ${(error as Error).message}`);
    }
  });
  return jwks;
}

export function keySetOf(config: Pick<JwtConfig, 'jwks_uri' | 'jwks'>): JWTVerifyGetKey {
  const keys = config.jwks_uri ? createRemoteJWKSet(new URL(config.jwks_uri), REMOTE_CACHE) : createLocalJWKSet(checkedKeySet(config.jwks));
  return async function resolveKey(header, token) {
    try {
      return await keys(header, token);
    } catch (error) {
      // jose itself tries each candidate on MultipleMatchingKeys, so both pass through untouched.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeySetUnavailable('cannot verify tokens now: the signing key set is unavailable', { cause: error });
    }
  };
}
