import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JwtConfig } from '../../config/fleet-config.ts';
import { GatewayError } from '../../http/gateway-error.ts';
import { sha256 } from '../../testing/gateway-harness.ts';
import { auth, type AuthOptions } from './index.ts';

const ISSUER = 'https://auth.example.test/';
const AUDIENCE = 'switchyard';

function app(options: Omit<AuthOptions, 'modelOf'>): Hono {
  const a = new Hono();
  a.onError((error, c) => (error instanceof GatewayError ? c.json({ error: error.message }, error.status, error.headers) : c.json({ error: 'internal' }, 500)));
  a.use('/models/:model', auth({ ...options, modelOf: (c) => c.req.param('model') }));
  a.get('/models/:model', (c) => c.json(c.get('principal')));
  return a;
}

const keys = [
  { id: 'app', sha256: sha256('sy_valid_key'), tenant: 'acme', scopes: ['infer:seed-classifier'] },
  { id: 'ops', sha256: sha256('sy_ops_key'), tenant: 'acme', subject: 'operator', scopes: ['infer:*'] },
];

describe('auth', () => {
  describe('API keys', () => {
    const a = app({ apiKeys: keys });

    it('rejects a request without credentials with 401 and WWW-Authenticate', async () => {
      const res = await a.request('/models/seed-classifier');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchyard"');
      expect(await res.json()).toEqual({ error: 'missing credentials: send Authorization: Bearer <key> or x-api-key' });
    });

    it('rejects a wrong key with 401 without echoing it', async () => {
      const res = await a.request('/models/seed-classifier', { headers: { authorization: 'Bearer sy_wrong_secret' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="switchyard", error="invalid_token"');
      expect(await res.text()).not.toContain('sy_wrong_secret');
    });

    it('accepts a key in Authorization: Bearer and in x-api-key', async () => {
      const bearer = await a.request('/models/seed-classifier', { headers: { authorization: 'Bearer sy_valid_key' } });
      expect(await bearer.json()).toEqual({ subject: 'app', tenant: 'acme', scopes: ['infer:seed-classifier'], method: 'api_key', keyId: 'app' });
      expect((await a.request('/models/seed-classifier', { headers: { 'x-api-key': 'sy_valid_key' } })).status).toBe(200);
    });

    it('refuses a model outside the key\'s scopes with 403, and infer:* opens every model', async () => {
      const res = await a.request('/models/wide-mlp', { headers: { 'x-api-key': 'sy_valid_key' } });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: "principal 'app' may not call model 'wide-mlp' (needs scope infer:wide-mlp or infer:*)" });
      expect((await a.request('/models/wide-mlp', { headers: { 'x-api-key': 'sy_ops_key' } })).status).toBe(200);
    });

    it('answers arbitrary credentials with 401, never an error', async () => {
      const printable = fc.string().filter((s) => /^[\t\x20-\x7e]*$/.test(s));
      await fc.assert(
        fc.asyncProperty(printable, printable, async (authorization, apiKey) => {
          const headers: Record<string, string> = {};
          if (authorization) headers.authorization = authorization;
          if (apiKey) headers['x-api-key'] = apiKey;
          const res = await a.request('/models/seed-classifier', { headers });
          expect(res.status).toBe(401);
          expect(typeof ((await res.json()) as { error: unknown }).error).toBe('string');
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('JWT', () => {
    let rsa: { privateKey: CryptoKey; publicJwk: JWK };
    let stranger: CryptoKey;
    let jwksServer: Server;
    let jwksUrl: string;
    let jwksFetches = 0;

    async function token(claims: Record<string, unknown>, options: { key?: CryptoKey; alg?: string; exp?: number | string; kid?: string } = {}): Promise<string> {
      const jwt = new SignJWT({ tenant: 'acme', scope: 'infer:* other', ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1' })
        .setIssuer((claims.iss as string | undefined) ?? ISSUER)
        .setAudience((claims.aud as string | undefined) ?? AUDIENCE)
        .setSubject('user-42')
        .setIssuedAt()
        .setExpirationTime(options.exp ?? '5m');
      return jwt.sign(options.key ?? rsa.privateKey);
    }

    const config = (overrides: Partial<JwtConfig> = {}): JwtConfig => ({
      issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256', 'ES256'], clock_skew_seconds: 30,
      tenant_claim: 'tenant', scope_claim: 'scope', jwks: { keys: [rsa.publicJwk] }, ...overrides,
    });

    beforeAll(async () => {
      const pair = await generateKeyPair('RS256');
      rsa = { privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' } };
      stranger = (await generateKeyPair('RS256')).privateKey;
      jwksServer = createServer((_, res) => {
        jwksFetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rsa.publicJwk] }));
      });
      await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
      jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    });
    afterAll(() => {
      jwksServer.close();
    });

    const call = (a: Hono, jwt: string, model = 'seed-classifier') => a.request(`/models/${model}`, { headers: { authorization: `Bearer ${jwt}` } });

    it('accepts a valid token and builds the principal from its claims', async () => {
      const res = await call(app({ apiKeys: [], jwt: config() }), await token({}));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ subject: 'user-42', tenant: 'acme', scopes: ['infer:*', 'other'], method: 'jwt' });
    });

    it('reads scopes given as an array', async () => {
      const res = await call(app({ apiKeys: [], jwt: config() }), await token({ scope: ['infer:wide-mlp'] }), 'wide-mlp');
      expect(res.status).toBe(200);
      expect((await call(app({ apiKeys: [], jwt: config() }), await token({ scope: ['infer:wide-mlp'] }))).status).toBe(403);
    });

    it('rejects an expired token with 401, but tolerates expiry within the clock skew', async () => {
      const now = Math.floor(Date.now() / 1000);
      const a = app({ apiKeys: [], jwt: config() });
      const expired = await call(a, await token({}, { exp: now - 120 }));
      expect(expired.status).toBe(401);
      expect(await expired.json()).toEqual({ error: 'invalid token: expired' });
      expect((await call(a, await token({}, { exp: now - 10 }))).status).toBe(200);
    });

    it('rejects a wrong issuer or audience with 401', async () => {
      const a = app({ apiKeys: [], jwt: config() });
      expect((await call(a, await token({ iss: 'https://evil.example/' }))).status).toBe(401);
      expect((await call(a, await token({ aud: 'someone-else' }))).status).toBe(401);
    });

    it('rejects unsigned (alg: none) and HMAC tokens with 401', async () => {
      const a = app({ apiKeys: [], jwt: config() });
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const claims = { sub: 'user-42', iss: ISSUER, aud: AUDIENCE, tenant: 'acme', scope: 'infer:*', exp: Math.floor(Date.now() / 1000) + 300 };
      const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      expect((await call(a, none)).status).toBe(401);
      const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(JSON.stringify(rsa.publicJwk)));
      const res = await call(a, hmac);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/^invalid token/);
    });

    it('rejects a token signed by a key outside the key set', async () => {
      expect((await call(app({ apiKeys: [], jwt: config() }), await token({}, { key: stranger }))).status).toBe(401);
    });

    it('rejects a token without the tenant claim', async () => {
      const res = await call(app({ apiKeys: [], jwt: config() }), await token({ tenant: undefined }));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "invalid token: missing 'tenant' claim" });
    });

    it('fetches a remote key set once and caches it across requests', async () => {
      const remote: JwtConfig = { ...config(), jwks_uri: jwksUrl };
      delete remote.jwks;
      const a = app({ apiKeys: [], jwt: remote });
      jwksFetches = 0;
      const jwt = await token({});
      for (let i = 0; i < 5; i++) expect((await call(a, jwt)).status).toBe(200);
      expect(jwksFetches).toBe(1);
    });

    it('still accepts API keys when JWTs are configured', async () => {
      const res = await app({ apiKeys: keys, jwt: config() }).request('/models/seed-classifier', { headers: { authorization: 'Bearer sy_valid_key' } });
      expect(res.status).toBe(200);
    });
  });
});
