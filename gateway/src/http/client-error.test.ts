import { connect } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayHttpServer, MAX_REQUEST_HEADERS } from './client-error.ts';

/** Sends raw bytes on a fresh connection and reads the whole answer until the server closes it. */
function raw(port: number, request: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body });
    });
    socket.write(request);
  });
}

const manyHeaders = (n: number) => Array.from({ length: n }, (_, i) => `x-h${i}: v\r\n`).join('');

describe('requests refused before the app', () => {
  let server: ServerType;
  let port: number;

  beforeAll(async () => {
    const app = new Hono().get('/', (c) => c.json({ ok: true }));
    ({ server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: createGatewayHttpServer }, (info) => resolve({ server: s, port: info.port }));
    }));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves ordinary requests', async () => {
    const res = await raw(port, 'GET / HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(res.body).toBe('{"ok":true}');
  });

  it('answers more than the maximum number of headers, Host last, with 431 in JSON', async () => {
    const res = await raw(port, `GET / HTTP/1.1\r\n${manyHeaders(MAX_REQUEST_HEADERS + 100)}host: gw\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(res.headers).toContain('content-type: application/json');
    expect(JSON.parse(res.body)).toEqual({ error: `too many request headers (${MAX_REQUEST_HEADERS + 101}; at most ${MAX_REQUEST_HEADERS})` });
  });

  it('answers headers over the parser\'s size limit with 431 in JSON', async () => {
    const res = await raw(port, `GET / HTTP/1.1\r\nhost: gw\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toEqual({ error: 'request headers too large' });
  });

  it('answers a malformed request or a missing Host with 400 in JSON', async () => {
    const garbage = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body)).toMatchObject({ error: expect.stringMatching(/^malformed HTTP request/) as unknown });
    const hostless = await raw(port, 'GET / HTTP/1.1\r\nx-a: b\r\n\r\n');
    expect(hostless.status).toBe(400);
    expect(JSON.parse(hostless.body)).toEqual({ error: 'missing Host header' });
  });
});
