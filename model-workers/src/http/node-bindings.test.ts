/**
 * The worker served on Node as its entry serves it (`withNodeBindings` over
 * @hono/node-server): request bodies come from the socket stream through
 * the `readBody` binding, with the same limits, decoding and answers as
 * the Web-standard path.
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serve, type ServerType } from '@hono/node-server';
import { withNodeBindings } from '@switchyard/observability/node-bindings';
import type { RuntimeBindings } from '@switchyard/observability/runtime-bindings';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleRepository } from '../samples/write-samples.ts';
import { startInProcessWorker, type InProcessWorker } from '../testing/worker-harness.ts';

const LIMIT = 4096;
const INFER = '/v2/models/seed-classifier/infer';
const body = (data: number[]) => JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [data.length / 2, 2], data }] });

/** POSTs with `Transfer-Encoding: chunked` (no Content-Length), one write per part. */
function postChunked(port: number, path: string, parts: Buffer[], headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    // The server may answer 413 and close before every part is sent.
    req.on('error', reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

describe('worker on Node: request bodies through the readBody binding', () => {
  let repository: string;
  let worker: InProcessWorker;
  let server: ServerType;
  let port: number;
  let boundReads = 0;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-node-bindings-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    worker = await startInProcessWorker({ repository, model: 'seed-classifier', maxBodyBytes: LIMIT });
    // The entry's wrapping, with the binding's reads counted: they come from the socket, not a web Request.
    ({ server, port } = await new Promise<{ server: ServerType; port: number }>((resolve) => {
      const s = serve({
        fetch: (request, env) => {
          const wrapped = withNodeBindings((req, b?: RuntimeBindings) => {
            const read = b?.readBody?.bind(b);
            const spy: RuntimeBindings | undefined = b && {
              ...(read ? { readBody: () => { boundReads++; return read(); } } : {}),
              ...(b.headers ? { headers: b.headers.bind(b) } : {}),
              ...(b.clientGone ? { clientGone: b.clientGone.bind(b) } : {}),
            };
            return worker.app.fetch(req, spy);
          });
          return wrapped(request, env);
        },
        port: 0,
        hostname: '127.0.0.1',
      }, (info) => resolve({ server: s, port: info.port }));
    }));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await worker.close();
    await rm(repository, { recursive: true, force: true });
  });

  it('answers an inference whose body it read from the socket', async () => {
    const before = boundReads;
    const res = await fetch(`http://127.0.0.1:${port}${INFER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body([0.25, -0.5]) });
    expect(res.status).toBe(200);
    const answer = await res.json() as { outputs: Array<{ shape: number[]; data: number[] }> };
    expect(answer.outputs[0]?.shape).toEqual([1, 2]);
    expect(boundReads).toBe(before + 1);
  });

  it('reads a chunked body (no Content-Length) in parts', async () => {
    const text = body([0.25, -0.5, 1, 2]);
    const res = await postChunked(port, INFER, [Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10, 40)), Buffer.from(text.slice(40))]);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { outputs: Array<{ shape: number[] }> }).outputs[0]?.shape).toEqual([2, 2]);
  });

  it('refuses with 413 a chunked body that passes the limit, and keeps serving', async () => {
    const parts = Array.from({ length: 8 }, () => Buffer.from(' '.repeat(1024)));
    const res = await postChunked(port, INFER, parts).catch((error: unknown) => ({ status: -1, text: String(error) }));
    // Either the 413 arrives, or the server closed the connection after answering it mid-upload.
    if (res.status !== -1) {
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text)).toEqual({ error: `request body exceeds ${LIMIT} bytes` });
    }
    const next = await fetch(`http://127.0.0.1:${port}${INFER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body([1, 1]) });
    expect(next.status).toBe(200);
  });

  it('refuses a declared Content-Length over the limit before reading', async () => {
    const res = await fetch(`http://127.0.0.1:${port}${INFER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ' '.repeat(LIMIT + 1) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: `request body exceeds ${LIMIT} bytes` });
  });

  it('answers 413 to a declared Content-Length over the limit without waiting for the body', async () => {
    // Headers and a few bytes go out; the rest of the declared body never does, so only an answer that does not read it can arrive.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: INFER, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(LIMIT * 4) } }, (res) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        req.destroy();
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      req.write('{"inputs": ');
    });
    expect(status).toBe(413);
  });

  it('decodes a gzip body read from the socket, and refuses one that inflates past the limit', async () => {
    const ok = await fetch(`http://127.0.0.1:${port}${INFER}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(body([0.25, -0.5])) });
    expect(ok.status).toBe(200);
    const bomb = gzipSync(Buffer.from(`{"inputs": [], "pad": "${'x'.repeat(LIMIT * 4)}"}`));
    expect(bomb.byteLength).toBeLessThan(LIMIT);
    const res = await fetch(`http://127.0.0.1:${port}${INFER}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: `request body exceeds ${LIMIT} bytes once decoded (Content-Encoding: gzip)` });
  });
});
