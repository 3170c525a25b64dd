import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientGone } from './client-closed.ts';
import { GatewayError } from './gateway-error.ts';
import { withNodeBindings } from '@switchyard/observability/node-bindings';
import { readBody } from './read-body.ts';
import { bindingsOf, type RuntimeBindings } from '@switchyard/observability/runtime-bindings';

/** Echoes the body it read and says which way it was read. */
function echoApp(): Hono {
  const app = new Hono();
  app.post('/echo', async (c) => {
    const body = await readBody(c, 1024);
    return c.json({ text: new TextDecoder().decode(body), bound: bindingsOf(c)?.readBody !== undefined, gone: clientGone(c) });
  });
  return app;
}

/** A body stream of these parts, as a host would hand it over. */
function chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  return new Blob(parts).stream();
}

describe('runtime bindings', () => {
  it('reads the body from the standard request stream when the host passes no bindings (Deno.serve, app.request)', async () => {
    const res = await echoApp().request('/echo', { method: 'POST', body: 'plain web body' });
    expect(await res.json()).toEqual({ text: 'plain web body', bound: false, gone: false });
  });

  it('reads the body through a readBody binding when the host passes one', async () => {
    const bindings: RuntimeBindings = { readBody: () => chunks('from ', 'binding'), clientGone: () => false };
    const res = await echoApp().request('/echo', { method: 'POST', body: 'ignored' }, bindings);
    expect(await res.json()).toEqual({ text: 'from binding', bound: true, gone: false });
  });

  it('refuses a body past the limit with 413 whichever way it is read', async () => {
    const app = echoApp();
    app.onError((error, c) => c.json({ error: error.message }, error instanceof GatewayError && error.status === 413 ? 413 : 500));
    const big = 'x'.repeat(2000);
    expect((await app.request('/echo', { method: 'POST', body: big })).status).toBe(413);
    const bindings: RuntimeBindings = { readBody: () => chunks(big) };
    expect((await app.request('/echo', { method: 'POST', body: big }, bindings)).status).toBe(413);
  });

  describe('on Node (withNodeBindings over @hono/node-server)', () => {
    let server: ServerType;
    let port: number;
    beforeAll(async () => {
      ({ server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
        const s = serve({ fetch: withNodeBindings(echoApp().fetch), port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: s, port: info.port }));
      }));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('passes bindings that read the socket stream, not the adapter objects', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'over node:http' });
      expect(await res.json()).toEqual({ text: 'over node:http', bound: true, gone: false });
    });
  });
});
