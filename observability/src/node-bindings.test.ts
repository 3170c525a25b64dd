/** The Node bindings over a real node:http server: bodies arrive whole and byte for byte, however they were sent. */
import { IncomingMessage, request as httpRequest, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withNodeBindings } from './node-bindings.ts';
import { bindingsOf, headerOf, type RuntimeBindings } from './runtime-bindings.ts';

/** Reads the body through the binding and answers its length and SHA-256. */
function digestApp(): Hono {
  const app = new Hono();
  app.post('/digest', async (c) => {
    const hash = createHash('sha256');
    let length = 0;
    const body = bindingsOf(c)?.readBody?.();
    if (!body) return c.json({ error: 'no binding' }, 500);
    for await (const chunk of body) {
      hash.update(chunk);
      length += chunk.byteLength;
    }
    return c.json({ length, sha256: hash.digest('hex'), type: headerOf(c, 'content-type') ?? null });
  });
  return app;
}

function post(port: number, parts: Buffer[], headers: Record<string, string>): Promise<{ length: number; sha256: string; type: string | null }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/digest', method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(JSON.parse(text) as { length: number; sha256: string; type: string | null }));
    });
    req.on('error', reject);
    // Parts after the first are written a turn later: the server may run the handler before they arrive.
    const [first, ...rest] = parts;
    req.write(first ?? Buffer.alloc(0));
    setImmediate(() => {
      for (const part of rest) req.write(part);
      req.end();
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Node bindings: request bodies', () => {
  let server: ServerType;
  let port: number;
  beforeAll(async () => {
    ({ server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
      const s = serve({ fetch: withNodeBindings(digestApp().fetch), port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: s, port: info.port }));
    }));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each([
    ['empty', Buffer.alloc(0)],
    ['small', Buffer.from('{"inputs":[]}')],
    ['64 KiB', randomBytes(64 * 1024)],
    ['3 MiB', randomBytes(3 * 1024 * 1024)],
  ])('reads a %s body with Content-Length whole', async (_name, body) => {
    const answer = await post(port, [body], { 'content-type': 'application/octet-stream', 'content-length': String(body.byteLength) });
    expect(answer).toEqual({ length: body.byteLength, sha256: sha(body), type: 'application/octet-stream' });
  });

  it('reads a chunked body sent in parts, later parts after the request started', async () => {
    const parts = [randomBytes(10), randomBytes(70_000), randomBytes(5)];
    const answer = await post(port, parts, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    expect(answer).toEqual({ length: 70_015, sha256: sha(Buffer.concat(parts)), type: 'application/json' });
  });

  describe('readBody', () => {
    /** The bindings the Node entry makes for a request whose body the parser holds as `parts` (`complete`: all of it has arrived). */
    function bindingsFor(parts: Buffer[], complete: boolean): RuntimeBindings | undefined {
      const incoming = new IncomingMessage(new Socket());
      for (const part of parts) incoming.push(part);
      if (complete) {
        incoming.push(null);
        incoming.complete = true;
      }
      let seen: RuntimeBindings | undefined;
      void withNodeBindings((_request, bindings) => {
        seen = bindings;
        return new Response(null);
      })(new Request('http://switchyard.test/'), { incoming, outgoing: new ServerResponse(incoming) });
      return seen;
    }

    it('hands over a body the parser has received whole as one chunk, without a stream iterator', () => {
      const body = bindingsFor([Buffer.from('{"inputs":'), Buffer.from('[]}')], true)?.readBody?.();
      expect(Array.isArray(body)).toBe(true);
      expect((body as Buffer[]).map((b) => b.toString())).toEqual(['{"inputs":[]}']);
      expect(bindingsFor([], true)?.readBody?.()).toEqual([]);
    });

    it('hands over the stream itself while the body is still arriving', () => {
      const body = bindingsFor([Buffer.from('{"inp')], false)?.readBody?.();
      expect(body).toBeInstanceOf(IncomingMessage);
    });
  });
});
