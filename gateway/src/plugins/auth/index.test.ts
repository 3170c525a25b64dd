import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JwtConfig } from '@switchyard/fleet-config/schema';
import { GatewayError } from '../../http/gateway-error.ts';
import { sha256 } from '../../testing/gateway-harness.ts';
import { auth, type AuthOptions } from './index.ts';

const ISSUER = 'https://auth.example.test/';
const AUDIENCE = 'switchyard';
const CHALLENGE = 'Bearer realm="switchyard"';
const INVALID_CHALLENGE = 'Bearer realm="switchyard", error="invalid_token"';

/** A tiny app: `/models/:model` behind auth, answering with the principal; errors rendered as the gateway does. */
function app(options: Omit<AuthOptions, 'modelOf'>): Hono {
  const a = new Hono();
  a.onError((error, c) => (error instanceof GatewayError ? c.json({ error: error.message }, error.status, error.headers) : c.json({ error: 'internal' }, 500)));
  a.use('/models/:model', auth({ ...options, modelOf: (c) => c.req.param('model') }));
  a.get('/models/:model', (c) => c.json(c.get('principal')));
  return a;
}

const get = async (a: Hono, headers: Record<string, string>, model = 'seed-classifier'): Promise<Response> => a.request(`/models/${model}`, { headers });
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

/** A real HTTP server on a free port, counting requests. */
async function serve(handler: RequestListener) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const keys = [
  { id: 'app', sha256: sha256('sy_valid_key'), tenant: 'acme', scopes: ['infer:seed-classifier'] },
  { id: 'ops', sha256: sha256('sy_ops_key'), tenant: 'acme', subject: 'operator', scopes: ['infer:*'] },
];

interface Signer {
  key: CryptoKey;
  alg: string;
  kid: string;
}
let rsa: Signer;
let ec: Signer;
let publicJwks: { keys: JWK[] };

beforeAll(async () => {
  const rsaPair = await generateKeyPair('RS256');
  const ecPair = await generateKeyPair('ES256');
  rsa = { key: rsaPair.privateKey, alg: 'RS256', kid: 'rsa-1' };
  ec = { key: ecPair.privateKey, alg: 'ES256', kid: 'ec-1' };
  publicJwks = {
    keys: [
      { ...(await exportJWK(rsaPair.publicKey)), kid: rsa.kid, alg: rsa.alg, use: 'sig' },
      { ...(await exportJWK(ecPair.publicKey)), kid: ec.kid, alg: ec.alg, use: 'sig' },
    ],
  };
});

const jwtConfig = (overrides: Partial<JwtConfig> = {}): JwtConfig => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['RS256', 'ES256'],
  clock_skew_seconds: 30,
  tenant_claim: 'tenant',
  scope_claim: 'scope',
  jwks: publicJwks,
  ...overrides,
});

/** A signed token with valid claims unless overridden (`undefined` drops a claim). */
function token(claims: Record<string, unknown> = {}, { signer = rsa, exp = '5m' }: { signer?: Signer; exp?: number | string } = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'user-42', tenant: 'acme', scope: 'infer:* other', ...claims })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(signer.key);
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

describe('auth', () => {
  describe('API keys', () => {
    const a = app({ apiKeys: keys });

    it('rejects a request without credentials with 401 and a WWW-Authenticate challenge', async () => {
      const res = await get(a, {});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(await res.json()).toEqual({ error: 'missing credentials: send Authorization: Bearer <key> or x-api-key' });
    });

    it('rejects another Authorization scheme with 401 and a challenge without an error code', async () => {
      const res = await get(a, { authorization: 'Basic c3lfdmFsaWRfa2V5Og==' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
      expect(await errorOf(res)).toMatch(/^unsupported Authorization header/);
    });

    it('rejects a wrong key with 401 and invalid_token, without echoing it', async () => {
      for (const headers of [bearer('sy_wrong_secret'), { 'x-api-key': 'sy_wrong_secret' }]) {
        const res = await get(a, headers);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe(INVALID_CHALLENGE);
        const body = await res.text();
        expect(body).toBe('{"error":"invalid API key"}');
        expect(body).not.toContain('sy_wrong_secret');
      }
    });

    it('accepts a key in Authorization: Bearer and sets the principal', async () => {
      const res = await get(a, bearer('sy_valid_key'));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ subject: 'app', tenant: 'acme', scopes: ['infer:seed-classifier'], method: 'api_key', keyId: 'app', identity: 'api_key:app' });
    });

    it('accepts a key in x-api-key', async () => {
      const res = await get(a, { 'x-api-key': 'sy_ops_key' });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ subject: 'operator', keyId: 'ops', method: 'api_key' });
    });

    it("refuses a model outside the key's scopes with 403 naming the scope it needs", async () => {
      const res = await get(a, { 'x-api-key': 'sy_valid_key' }, 'wide-mlp');
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: "principal 'app' may not call model 'wide-mlp' (needs scope infer:wide-mlp or infer:*)" });
    });

    it('lets a key with infer:* call any model', async () => {
      expect((await get(a, { 'x-api-key': 'sy_ops_key' }, 'wide-mlp')).status).toBe(200);
      expect((await get(a, { 'x-api-key': 'sy_ops_key' }, 'seed-classifier')).status).toBe(200);
    });

    it('refuses at start-up two key ids with the same digest', () => {
      expect(() => auth({ apiKeys: [keys[0]!, { ...keys[1]!, sha256: keys[0]!.sha256 }], modelOf: () => undefined })).toThrow(/'app' and 'ops' have the same sha256/);
    });
  });

  describe('JWT', () => {
    it('accepts a valid RS256 token and builds the principal from its claims', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token()));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        subject: 'user-42', tenant: 'acme', scopes: ['infer:*', 'other'], method: 'jwt',
        // Namespaced by kind and issuer, so it never meets an API key's or another issuer's identity.
        issuer: ISSUER, identity: `jwt:${encodeURIComponent(ISSUER)}:user-42`,
      });
    });

    it('accepts a valid ES256 token', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({}, { signer: ec })));
      expect(res.status).toBe(200);
    });

    it('reads scopes given as a space-separated string', async () => {
      const a = app({ apiKeys: [], jwt: jwtConfig() });
      const jwt = await token({ scope: 'infer:wide-mlp  variant:override' });
      expect(await (await get(a, bearer(jwt), 'wide-mlp')).json()).toMatchObject({ scopes: ['infer:wide-mlp', 'variant:override'] });
      expect((await get(a, bearer(jwt), 'seed-classifier')).status).toBe(403);
    });

    it('reads scopes given as an array, from the configured claim', async () => {
      const a = app({ apiKeys: [], jwt: jwtConfig({ scope_claim: 'permissions' }) });
      const jwt = await token({ scope: undefined, permissions: ['infer:wide-mlp'] });
      expect((await get(a, bearer(jwt), 'wide-mlp')).status).toBe(200);
      expect((await get(a, bearer(jwt), 'seed-classifier')).status).toBe(403);
    });

    it('rejects a scope claim that is neither a string nor an array of strings with 401', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({ scope: ['infer:*', 7] })));
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe("invalid token: 'scope' claim must be a space-separated string or an array of strings");
    });

    it('rejects a token expired beyond the clock skew with 401', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({}, { exp: Math.floor(Date.now() / 1000) - 120 })));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(INVALID_CHALLENGE);
      expect(await res.json()).toEqual({ error: 'invalid token: expired' });
    });

    it('accepts a token expired within the clock skew', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({}, { exp: Math.floor(Date.now() / 1000) - 10 })));
      expect(res.status).toBe(200);
    });

    it('rejects a token from another issuer with 401', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({ iss: 'https://evil.example/' })));
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe("invalid token: 'iss' claim does not match");
    });

    it('rejects a token for another audience with 401', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({ aud: 'someone-else' })));
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe("invalid token: 'aud' claim does not match");
    });

    it('rejects an unsigned alg: none token with 401', async () => {
      const claims = { iss: ISSUER, aud: AUDIENCE, sub: 'user-42', tenant: 'acme', scope: 'infer:*', exp: Math.floor(Date.now() / 1000) + 300 };
      const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(none));
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe('invalid token: algorithm not allowed');
    });

    it('rejects an HS256 token with 401, even one keyed with the public key (HS/RS confusion)', async () => {
      const a = app({ apiKeys: [], jwt: jwtConfig() });
      for (const secret of ['some shared secret', JSON.stringify(publicJwks.keys[0])]) {
        const hmac = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'user-42', tenant: 'acme', scope: 'infer:*' })
          .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(secret));
        const res = await get(a, bearer(hmac));
        expect(res.status).toBe(401);
        expect(await errorOf(res)).toBe('invalid token: algorithm not allowed');
      }
    });

    it('rejects a token signed by a key outside the key set with 401', async () => {
      const stranger = { ...rsa, key: (await generateKeyPair('RS256')).privateKey };
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({}, { signer: stranger })));
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe('invalid token: bad signature');
    });

    it('rejects a token whose kid is not in the key set with 401', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({}, { signer: { ...rsa, kid: 'rotated-away' } })));
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe('invalid token: unknown signing key');
    });

    it('rejects a token without the tenant claim with 401', async () => {
      const res = await get(app({ apiKeys: [], jwt: jwtConfig() }), bearer(await token({ tenant: undefined })));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "invalid token: missing 'tenant' claim" });
    });

    it('rejects a token without sub, or with a sub that is not a string, with 401', async () => {
      const a = app({ apiKeys: [], jwt: jwtConfig() });
      const missing = await get(a, bearer(await token({ sub: undefined })));
      expect(missing.status).toBe(401);
      expect(await errorOf(missing)).toBe("invalid token: missing 'sub' claim");
      expect((await get(a, bearer(await token({ sub: 42 })))).status).toBe(401);
    });

    it('still accepts API keys, including in Bearer, when JWTs are configured', async () => {
      const a = app({ apiKeys: keys, jwt: jwtConfig() });
      expect((await get(a, bearer('sy_valid_key'))).status).toBe(200);
      expect((await get(a, { 'x-api-key': 'sy_valid_key' })).status).toBe(200);
    });

    it('refuses at start-up an inline key set holding a private key or a broken key', async () => {
      const start = (key: JWK) => () => auth({ apiKeys: [], jwt: jwtConfig({ jwks: { keys: [key] } }), modelOf: () => undefined });
      const privateJwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
      expect(start(privateJwk)).toThrow(/keys\[0\] is a private or symmetric key/);
      expect(start({ kty: 'RSA', n: 'AQAB', kid: 'half' })).toThrow(/keys\[0\] is not a usable public key/);
    });

    describe('with a remote key set (jwks_uri)', () => {
      let jwks: Awaited<ReturnType<typeof serve>>;
      let broken: Awaited<ReturnType<typeof serve>>;
      beforeAll(async () => {
        jwks = await serve((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(publicJwks)));
        broken = await serve((_, res) => res.writeHead(500).end('down'));
      });
      afterAll(async () => {
        await Promise.all([jwks.close(), broken.close()]);
      });
      const remote = (url: string): JwtConfig => {
        const config: JwtConfig = { ...jwtConfig(), jwks_uri: url };
        delete config.jwks;
        return config;
      };

      it('accepts valid tokens and fetches the key set once for concurrent and later requests', async () => {
        const a = app({ apiKeys: [], jwt: remote(jwks.url) });
        const [rs, es] = [await token(), await token({}, { signer: ec })];
        const concurrent = await Promise.all(Array.from({ length: 5 }, (_, i) => get(a, bearer(i % 2 ? rs : es))));
        const later = [];
        for (let i = 0; i < 5; i++) later.push(await get(a, bearer(rs)));
        expect([...concurrent, ...later].map((res) => res.status)).toEqual(Array(10).fill(200));
        expect(jwks.requests()).toBe(1);
      });

      it('answers 503 with Retry-After, not 401, when the key set cannot be fetched', async () => {
        const jwt = await token();
        const res = await get(app({ apiKeys: [], jwt: remote(broken.url) }), bearer(jwt));
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        const body = await res.text();
        expect(JSON.parse(body)).toEqual({ error: 'cannot verify tokens now: the signing key set is unavailable' });
        expect(body).not.toContain(jwt);
      });
    });
  });

  describe('arbitrary credentials', () => {
    // Header values as fetch allows them: bytes 0x20-0xFF and tab.
    const headerValue = fc.string({ unit: fc.oneof(fc.constant('\t'), fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code))) });
    const segment = fc.oneof(fc.stringMatching(/^[\w-]+$/), fc.jsonValue().map(b64url));
    const jwtHeader = fc.record({ alg: fc.constantFrom('RS256', 'ES256', 'PS256', 'HS256', 'none'), kid: fc.constantFrom('rsa-1', 'ec-1', 'other') }, { requiredKeys: [] }).map(b64url);
    const jwtShaped = fc.tuple(fc.oneof(jwtHeader, segment), segment, fc.oneof(segment, fc.constant(''))).map((parts) => parts.join('.'));
    const authorization = fc.oneof(headerValue, headerValue.map((v) => `Bearer ${v}`), jwtShaped.map((t) => `Bearer ${t}`));

    it('are answered with 401 and an error message, never a 500 or a throw', async () => {
      const a = app({ apiKeys: keys, jwt: jwtConfig() });
      await fc.assert(
        fc.asyncProperty(fc.option(authorization), fc.option(headerValue), async (auth, apiKey) => {
          const headers: Record<string, string> = {};
          if (auth !== null) headers.authorization = auth;
          if (apiKey !== null) headers['x-api-key'] = apiKey;
          const res = await get(a, headers);
          expect(res.status).toBe(401);
          expect(typeof (await errorOf(res))).toBe('string');
        }),
        { numRuns: 500 },
      );
    });
  });
});
