/**
 * The auth plugin: `Authorization: Bearer <key or JWT>` or `x-api-key`
 * → a principal `{subject, tenant, scopes}`. Missing or invalid
 * credentials are a 401 with `WWW-Authenticate`; a principal without the
 * model's `infer:` scope is a 403. Credentials are never echoed or logged.
 */
import { headerOf } from '@switchyard/observability/runtime-bindings';
import { trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import type { ApiKeyConfig, JwtConfig } from '@switchyard/fleet-config/schema';
import { GatewayError } from '../../http/gateway-error.ts';
import { canInfer, type Principal } from '../../principal.ts';
import { apiKeyVerifier } from './api-keys.ts';
import { jwtVerifier, looksLikeJwt, TokenRejected, type JwtVerifier } from './jwt.ts';
import { KeySetUnavailable } from './key-set.ts';

export interface AuthOptions {
  /** Accepted API keys (digests only). May be empty. */
  apiKeys: readonly ApiKeyConfig[];
  /** Also accept JWT bearer tokens. Default: none; every credential is an API key. */
  jwt?: JwtConfig;
  /** The model a request addresses; when there is one, the principal needs `infer:<model>` or `infer:*`. */
  modelOf: (c: Context) => string | undefined;
}

const CHALLENGE = 'Bearer realm="switchyard"';
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const MISSING = 'missing credentials: send Authorization: Bearer <key> or x-api-key';
const UNSUPPORTED = 'unsupported Authorization header: send Authorization: Bearer <key> or x-api-key';

function invalid(message: string): GatewayError {
  return new GatewayError(401, message, { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` });
}

async function verifyToken(verifyJwt: JwtVerifier, token: string): Promise<Principal> {
  try {
    return await verifyJwt(token);
  } catch (error) {
    if (error instanceof TokenRejected) throw invalid(error.message);
    if (error instanceof KeySetUnavailable) throw new GatewayError(503, error.message, { 'Retry-After': '5' });
    throw error;
  }
}

/** Authenticates every request and checks the model scope; sets `principal`. Throws on bad config. */
export function auth(options: AuthOptions): MiddlewareHandler {
  const { modelOf } = options;
  const verifyKey = apiKeyVerifier(options.apiKeys);
  const verifyJwt = options.jwt ? jwtVerifier(options.jwt) : undefined;

  async function authenticate(c: Context): Promise<Principal> {
    const authorization = headerOf(c, 'authorization');
    const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    const credential = bearer ?? headerOf(c, 'x-api-key');
    if (!credential) {
      // RFC 6750 §3.1: no error code when the client sent no usable credentials.
      throw new GatewayError(401, authorization ? UNSUPPORTED : MISSING, { 'WWW-Authenticate': CHALLENGE });
    }
    if (bearer !== undefined && verifyJwt && looksLikeJwt(bearer)) return verifyToken(verifyJwt, bearer);
    const principal = verifyKey(credential);
    if (!principal) throw invalid('invalid API key');
    return principal;
  }

  return async function authMiddleware(c, next) {
    let principal: Principal;
    try {
      principal = await authenticate(c);
    } catch (error) {
      trace.getActiveSpan()?.addEvent('auth', { 'switchyard.auth.result': 'rejected' });
      throw error;
    }
    // Who, never with what: no key or token goes into telemetry.
    trace.getActiveSpan()?.addEvent('auth', { 'switchyard.auth.result': 'ok', 'switchyard.auth.method': principal.method, 'enduser.id': principal.subject, 'switchyard.tenant': principal.tenant });
    // Set before the scope check, so the access log names whoever was refused.
    c.set('principal', principal);
    const model = modelOf(c);
    if (model !== undefined && !canInfer(principal, model)) {
      throw new GatewayError(403, `principal '${principal.subject}' may not call model '${model}' (needs scope infer:${model} or infer:*)`);
    }
    await next();
  };
}
