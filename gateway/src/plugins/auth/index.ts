/**
 * The auth plugin: `Authorization: Bearer <key or JWT>` or `x-api-key`
 * → a principal `{subject, tenant, scopes}`. Missing or invalid
 * credentials are a 401 with `WWW-Authenticate`; a principal without the
 * model's `infer:` scope is a 403. Credentials are never echoed or logged.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiKeyConfig, JwtConfig } from '../../config/fleet-config.ts';
import { GatewayError } from '../../http/gateway-error.ts';
import { canInfer, type Principal } from '../../principal.ts';
import { apiKeyVerifier } from './api-keys.ts';
import { jwtVerifier, looksLikeJwt, TokenError } from './jwt.ts';

export interface AuthOptions {
  apiKeys: readonly ApiKeyConfig[];
  /** Accept JWT bearer tokens too. */
  jwt?: JwtConfig;
  /** The model a request addresses; its scope is checked when present. */
  modelOf: (c: Context) => string | undefined;
}

const REALM = 'Bearer realm="switchyard"';

function unauthorized(message: string, invalid: boolean): GatewayError {
  return new GatewayError(401, message, { 'WWW-Authenticate': invalid ? `${REALM}, error="invalid_token"` : REALM });
}

export function auth(options: AuthOptions): MiddlewareHandler {
  const { modelOf } = options;
  const verifyKey = apiKeyVerifier(options.apiKeys);
  const verifyJwt = options.jwt ? jwtVerifier(options.jwt) : undefined;

  async function authenticate(c: Context): Promise<Principal> {
    const authorization = c.req.header('authorization');
    const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    const credential = bearer || c.req.header('x-api-key');
    if (!credential) {
      const message = authorization ? 'malformed Authorization header: expected "Bearer <key>"' : 'missing credentials: send Authorization: Bearer <key> or x-api-key';
      throw unauthorized(message, Boolean(authorization));
    }
    if (bearer && verifyJwt && looksLikeJwt(bearer)) {
      try {
        return await verifyJwt(bearer);
      } catch (error) {
        if (error instanceof TokenError) throw unauthorized(error.message, true);
        throw error;
      }
    }
    const principal = verifyKey(credential);
    if (!principal) throw unauthorized('invalid API key', true);
    return principal;
  }

  return async function authMiddleware(c, next) {
    const principal = await authenticate(c);
    const model = modelOf(c);
    if (model !== undefined && !canInfer(principal, model)) {
      throw new GatewayError(403, `principal '${principal.subject}' may not call model '${model}' (needs scope infer:${model} or infer:*)`);
    }
    c.set('principal', principal);
    await next();
  };
}
