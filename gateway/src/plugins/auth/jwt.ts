/**
 * JWT bearer tokens, verified with jose against a JWKS: a remote key set
 * (cached, refetched on an unknown `kid`) or inline keys. Only the
 * configured asymmetric algorithms are accepted, so `none` and HMAC tokens
 * (HS/RS confusion) are refused before any key is consulted.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { JwtConfig } from '../../config/fleet-config.ts';
import type { Principal } from '../../principal.ts';

export class TokenError extends Error {
  override name = 'TokenError';
}

export type JwtVerifier = (token: string) => Promise<Principal>;

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

function scopesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim) && claim.every((s) => typeof s === 'string')) return claim;
  return [];
}

function reason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim '${error.claim}' ${error.reason === 'check_failed' ? 'does not match' : error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no matching key';
  if (error instanceof errors.JWKSTimeout) return 'key set unavailable';
  if (error instanceof errors.JOSEError) return error.code.replace(/^ERR_/, '').toLowerCase().replaceAll('_', ' ');
  return 'malformed';
}

export function jwtVerifier(config: JwtConfig): JwtVerifier {
  const keys = config.jwks_uri
    ? createRemoteJWKSet(new URL(config.jwks_uri), { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5000 })
    : createLocalJWKSet(config.jwks as JSONWebKeySet);
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [...config.algorithms],
    clockTolerance: config.clock_skew_seconds,
    requiredClaims: ['sub', 'exp'],
  };
  return async function verifyJwt(token) {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, options));
    } catch (error) {
      throw new TokenError(`invalid token: ${reason(error)}`);
    }
    const tenant = payload[config.tenant_claim];
    if (typeof tenant !== 'string' || tenant === '') throw new TokenError(`invalid token: missing '${config.tenant_claim}' claim`);
    return { subject: payload.sub as string, tenant, scopes: scopesOf(payload[config.scope_claim]), method: 'jwt' };
  };
}
