/** Who is calling, as established by the auth plugin, and what the pipeline shares about a request. */

export interface Principal {
  /** Stable id of the caller: the API key's subject or id, or the JWT `sub`. */
  subject: string;
  tenant: string;
  scopes: readonly string[];
  /** How the caller authenticated. */
  method: 'api_key' | 'jwt';
  /** The API key's id, when one was used. */
  keyId?: string;
  /** The JWT's `iss`, when a token was used. */
  issuer?: string;
  /**
   * The credential, namespaced by kind and issuer so that no two kinds can
   * collide (a JWT with `sub: "dev"` is not the API key `dev`):
   * `api_key:<key id>` or `jwt:<iss>:<sub>`, each part percent-encoded.
   */
  identity: string;
}

export function apiKeyIdentity(keyId: string): string {
  return `api_key:${encodeURIComponent(keyId)}`;
}

export function jwtIdentity(issuer: string, subject: string): string {
  return `jwt:${encodeURIComponent(issuer)}:${encodeURIComponent(subject)}`;
}

/**
 * The subject, namespaced like `identity`: API keys that name the same
 * subject share it (`api_key-subject:<subject>`); a JWT's is its identity.
 */
export function subjectKey(principal: Principal): string {
  return principal.method === 'jwt' ? principal.identity : `api_key-subject:${encodeURIComponent(principal.subject)}`;
}

/** May `principal` call `model`? (`infer:<model>` or `infer:*`) */
export function canInfer(principal: Principal, model: string): boolean {
  return principal.scopes.includes('infer:*') || principal.scopes.includes(`infer:${model}`);
}

/** Scope that lets a caller choose a variant with the override header. */
export const OVERRIDE_SCOPE = 'variant:override';

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal;
    requestId: string;
  }
}
