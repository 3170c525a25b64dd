/**
 * JWT bearer tokens: verified with jose against the configured key set,
 * accepting only the configured asymmetric algorithms (so `none` and HMAC
 * tokens, and with them HS/RS confusion, fail before any key is looked
 * up), then read into a principal: `sub`, the tenant claim, the scope claim.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { JwtConfig } from '@switchyard/fleet-config/schema';
import { jwtIdentity, type Principal } from '../../principal.ts';
import { KeySetUnavailable, keySetOf } from './key-set.ts';

/** An unacceptable token. The message is safe to return: it never quotes the token. */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

export type JwtVerifier = (token: string) => Promise<Principal>;

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Three base64url segments (the last may be empty, as in `alg: none`). */
export function looksLikeJwt(token: string): boolean {
  return JWT_SHAPE.test(token);
}

function reasonFor(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `missing '${error.claim}' claim`;
    if (error.claim === 'nbf') return 'not yet valid';
    return `'${error.claim}' claim ${error.reason === 'check_failed' ? 'does not match' : 'is invalid'}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown signing key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  return 'malformed';
}

function scopesOf(claim: unknown, name: string): readonly string[] {
  if (claim === undefined) return [];
  if (typeof claim === 'string') return claim.split(' ').filter(Boolean);
  if (Array.isArray(claim) && claim.every((scope): scope is string => typeof scope === 'string')) return claim;
  throw new TokenRejected(`invalid token: '${name}' claim must be a space-separated string or an array of strings`);
}

function principalOf(payload: JWTPayload, tenantClaim: string, scopeClaim: string): Principal {
  // jose checks that `sub` is present, not that it is a string.
  const { sub } = payload;
  if (typeof sub !== 'string' || sub === '') throw new TokenRejected("invalid token: 'sub' claim must be a non-empty string");
  const tenant = payload[tenantClaim];
  if (typeof tenant !== 'string' || tenant === '') throw new TokenRejected(`invalid token: missing '${tenantClaim}' claim`);
  // jose has checked `iss` against the configured issuer.
  const issuer = String(payload.iss);
  return { subject: sub, tenant, scopes: scopesOf(payload[scopeClaim], scopeClaim), method: 'jwt', issuer, identity: jwtIdentity(issuer, sub) };
}

/** Rejects with TokenRejected (a 401) or KeySetUnavailable (a 503). */
export function jwtVerifier(config: JwtConfig): JwtVerifier {
  const keys = keySetOf(config);
  const options: JWTVerifyOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [...config.algorithms],
    clockTolerance: config.clock_skew_seconds,
    // A token without `exp` would never expire.
    requiredClaims: ['sub', 'exp'],
  };
  const { tenant_claim: tenantClaim, scope_claim: scopeClaim } = config;
  return async function verifyJwt(token) {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, options));
    } catch (error) {
      if (error instanceof KeySetUnavailable) throw error;
      throw new TokenRejected(`invalid token: ${reasonFor(error)}`);
    }
    return principalOf(payload, tenantClaim, scopeClaim);
  };
}
