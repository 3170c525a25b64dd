import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestGateway, sha256, type TestGateway } from '../../testing/gateway-harness.ts';

const KEY = 'sy_test_forward_headers';

/** A stand-in worker that records the headers of every inference it receives. */
interface StubWorker {
  url: string;
  seen: IncomingHttpHeaders[];
  /** Resolves with the headers of the first request carrying `x-switchyard-shadow`. */
  shadowed: Promise<IncomingHttpHeaders>;
  close(): Promise<void>;
}

async function stubWorker(version: number, inferStatus = 200): Promise<StubWorker> {
  const seen: IncomingHttpHeaders[] = [];
  let onShadow: (h: IncomingHttpHeaders) => void = () => undefined;
  const shadowed = new Promise<IncomingHttpHeaders>((resolve) => { onShadow = resolve; });
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/v2/health')) return void res.writeHead(200).end();
      seen.push(req.headers);
      if (req.headers['x-switchyard-shadow'] !== undefined) onShadow(req.headers);
      if (inferStatus !== 200) return void res.writeHead(inferStatus, { 'content-type': 'application/json' }).end('{"error":"not ready"}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model_name: 'm', model_version: String(version), outputs: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    shadowed,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function fleet(v1: StubWorker, v2: StubWorker, weights: [number, number], extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    auth: { api_keys: [{ id: 'app', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*'] }] },
    models: {
      m: {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: weights[0], upstreams: [v1.url] },
          { name: 'v2', version: 2, weight: weights[1], upstreams: [v2.url] },
        ],
        ...extra,
      },
    },
  };
}

const infer = (gw: TestGateway, user: string, headers: Record<string, string> = {}) =>
  Promise.resolve(gw.app.request('/v2/models/m/infer', {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-switchyard-user': user, ...headers },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] }),
  }));

describe('headers sent upstream', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });

  async function setup(weights: [number, number], v2Status = 200, extra: Record<string, unknown> = {}) {
    const v1 = await stubWorker(1);
    const v2 = await stubWorker(2, v2Status);
    cleanup.push(() => v1.close(), () => v2.close());
    const gw = await buildTestGateway(fleet(v1, v2, weights, extra));
    cleanup.push(() => gw.close());
    return { v1, v2, gw };
  }

  it('name the variant the gateway chose in x-switchyard-variant, the one it reports to the client', async () => {
    const { v1, v2, gw } = await setup([50, 50]);
    for (let i = 0; i < 40; i++) {
      const res = await infer(gw, `user-${i}`);
      expect(res.status).toBe(200);
      const variant = res.headers.get('x-switchyard-variant');
      const worker = variant === 'v1' ? v1 : v2;
      expect(worker.seen.at(-1)?.['x-switchyard-variant']).toBe(variant);
    }
    expect(v1.seen.length).toBeGreaterThan(0);
    expect(v2.seen.length).toBeGreaterThan(0);
    expect(v1.seen.every((h) => h['x-switchyard-variant'] === 'v1')).toBe(true);
    expect(v2.seen.every((h) => h['x-switchyard-variant'] === 'v2')).toBe(true);
  });

  it('name the stable variant when a split request falls back to it', async () => {
    const { v1, v2, gw } = await setup([0, 100], 503);
    const res = await infer(gw, 'alice');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-variant')).toBe('v1');
    expect(v2.seen.map((h) => h['x-switchyard-variant'])).toEqual(['v2']);
    expect(v1.seen.map((h) => h['x-switchyard-variant'])).toEqual(['v1']);
  });

  it('name the shadow variant on shadow copies', async () => {
    const { v2, gw } = await setup([100, 0], 200, { shadow: { variant: 'v2', percent: 100 } });
    expect((await infer(gw, 'bob')).headers.get('x-switchyard-variant')).toBe('v1');
    const headers = await v2.shadowed;
    expect(headers['x-switchyard-variant']).toBe('v2');
  });

  it('carry neither credentials nor the user header', async () => {
    const { v1, gw } = await setup([100, 0]);
    await infer(gw, 'carol');
    const headers = v1.seen.at(-1) ?? {};
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-switchyard-user']).toBeUndefined();
  });
});
