import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { describe, expect, it, vi } from 'vitest';
import { connect } from 'node:http2';
import { createInferenceClient, GrpcStatus, modelInferFrame, type ServiceError } from './grpc-client.ts';
import { startGrpcServer, type FetchHandler, type GrpcCallBindings } from './grpc-server.ts';

/** A fetch handler that holds each request until released, recording what it saw. */
function heldService() {
  const seen: Request[] = [];
  const releases: Array<() => void> = [];
  let arrived: () => void = () => undefined;
  const next = () => new Promise<void>((resolve) => (arrived = resolve));
  const fetch: FetchHandler = async (request) => {
    seen.push(request);
    arrived();
    await new Promise<void>((resolve) => releases.push(resolve));
    return Response.json({ live: true });
  };
  return { seen, releases, fetch, next };
}

describe('gRPC server', () => {
  it('finishes a call in flight when closed, then refuses new ones', async () => {
    const service = heldService();
    const server = await startGrpcServer({ fetch: service.fetch, port: 0, host: '127.0.0.1' });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    const arrived = service.next();
    const call = client.serverLive();
    await arrived;
    const closed = server.close();
    service.releases.shift()?.();
    expect(await call).toEqual({ live: true });
    await closed;
    const refused = await client.serverLive({ timeoutMs: 2000 }).catch((error: ServiceError) => error);
    expect((refused as ServiceError).code).toBe(GrpcStatus.UNAVAILABLE);
    client.close();
  });

  it('aborts the request signal when the client cancels (deadline passed)', async () => {
    const service = heldService();
    const server = await startGrpcServer({ fetch: service.fetch, port: 0, host: '127.0.0.1' });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      const arrived = service.next();
      const call = client.serverLive({ timeoutMs: 300 }).catch((error: ServiceError) => error);
      await arrived;
      const request = service.seen[0];
      const aborted = new Promise<boolean>((resolve) => request?.signal.addEventListener('abort', () => resolve(true)));
      expect(((await call) as ServiceError).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect(await aborted).toBe(true);
    } finally {
      for (const release of service.releases) release();
      client.close();
      server.forceClose();
    }
  });

  it('passes caller metadata as headers, but not transport, grpc- or binary keys', async () => {
    const service = heldService();
    const server = await startGrpcServer({ fetch: service.fetch, port: 0, host: '127.0.0.1' });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      const arrived = service.next();
      const call = client.serverReady({ metadata: { authorization: 'Bearer k', 'x-switchyard-user': 'u1', traceparent: '00-ab-cd-01', 'content-encoding': 'gzip' } });
      await arrived;
      service.releases.shift()?.();
      await call;
      const headers = Object.fromEntries(service.seen[0]?.headers ?? []);
      expect(headers).toMatchObject({ authorization: 'Bearer k', 'x-switchyard-user': 'u1', traceparent: '00-ab-cd-01' });
      expect(Object.keys(headers).filter((k) => k.startsWith('grpc-') || ['te', 'content-type', 'content-encoding', 'user-agent'].includes(k))).toEqual([]);
      expect(service.seen[0]?.url).toBe(`http://127.0.0.1:${server.port}/v2/health/ready`);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('answers INTERNAL without details when the service itself throws, and UNIMPLEMENTED for calls it does not declare', async () => {
    const server = await startGrpcServer({ fetch: () => Promise.reject(new Error('boom: secret detail')), port: 0, host: '127.0.0.1', logger: { error: () => undefined } });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      const error = (await client.serverMetadata().catch((e: ServiceError) => e)) as ServiceError;
      expect(error.code).toBe(GrpcStatus.INTERNAL);
      expect(error.details).toBe('internal error');
      const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
      const unimplemented = await new Promise<ServiceError | null>((resolve) => {
        raw.makeUnaryRequest('/inference.GRPCInferenceService/RepositoryIndex', () => Buffer.alloc(0), (b: Buffer) => b, {}, new Metadata(), (e) => resolve(e));
      });
      raw.close();
      expect(unimplemented?.code).toBe(GrpcStatus.UNIMPLEMENTED);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('gRPC server with runtime bindings', () => {
  it('hands the body to the handler through its bindings, not the Request, with the headers and the caller\'s presence', async () => {
    const seen: Array<{ requestBody: ReadableStream | null; body: Buffer; headers: Record<string, string>; gone: boolean }> = [];
    const fetch: FetchHandler = async (request, bindings) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of bindings?.readBody() ?? []) chunks.push(chunk);
      seen.push({ requestBody: request.body, body: Buffer.concat(chunks), headers: bindings?.headers() ?? {}, gone: bindings?.clientGone() ?? true });
      return Response.json({ models: [] });
    };
    const server = await startGrpcServer({ fetch, port: 0, host: '127.0.0.1', tritonExtensions: true, runtimeBindings: true });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      expect(await client.repositoryIndex({ ready: true }, { metadata: { authorization: 'Bearer k' } })).toEqual({ models: [] });
      expect(seen).toEqual([{ requestBody: null, body: Buffer.from('{"ready":true}'), headers: expect.objectContaining({ authorization: 'Bearer k', 'content-type': 'application/json' }) as unknown, gone: false }]);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('gRPC server with runtime bindings: the request and the answer', () => {
  it('hands the handler a Request with url, method and headers that also works as a standard one', async () => {
    const seen: unknown[] = [];
    const fetch: FetchHandler = async (request) => {
      const copy = request.clone();
      seen.push({
        isRequest: request instanceof Request, url: request.url, method: request.method,
        auth: request.headers.get('authorization'), copyAuth: copy.headers.get('authorization'), body: request.body, redirect: request.redirect, text: await request.text(),
      });
      return Response.json({ live: true });
    };
    const server = await startGrpcServer({ fetch, port: 0, host: '127.0.0.1', runtimeBindings: true });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      expect(await client.serverLive({ metadata: { authorization: 'Bearer k' } })).toEqual({ live: true });
      expect(seen).toEqual([{ isRequest: true, url: `http://127.0.0.1:${server.port}/v2/health/live`, method: 'GET', auth: 'Bearer k', copyAuth: 'Bearer k', body: null, redirect: 'follow', text: '' }]);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('takes the answer\'s bytes from bodyOf when it has them, leaving the body stream unread', async () => {
    const answers: Response[] = [];
    const given = new Map<Response, Uint8Array>();
    const fetch: FetchHandler = () => {
      const res = new Response('{"name":"from-stream","version":"1","extensions":[]}', { headers: { 'content-type': 'application/json' } });
      answers.push(res);
      // What the service says its answer is, whole: not what the stream holds.
      given.set(res, new TextEncoder().encode('{"name":"from-bodyOf","version":"1","extensions":[]}'));
      return res;
    };
    const server = await startGrpcServer({ fetch, port: 0, host: '127.0.0.1', runtimeBindings: true, bodyOf: (res) => given.get(res) });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      expect(await client.serverMetadata()).toEqual({ name: 'from-bodyOf', version: '1', extensions: [] });
      expect(answers[0]?.bodyUsed).toBe(false);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('gRPC server with runtime bindings, cancelled', () => {
  it('reports a caller whose deadline passed through clientGone()', async () => {
    let bindings: GrpcCallBindings | undefined;
    let arrived: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => (arrived = resolve));
    const fetch: FetchHandler = async (_request, b) => {
      bindings = b;
      arrived();
      await vi.waitFor(() => expect(b?.clientGone()).toBe(true), { timeout: 5000, interval: 10 });
      return Response.json({ live: true });
    };
    const server = await startGrpcServer({ fetch, port: 0, host: '127.0.0.1', runtimeBindings: true, logger: { error: () => undefined } });
    const client = createInferenceClient(`127.0.0.1:${server.port}`);
    try {
      const call = client.serverLive({ timeoutMs: 200 }).catch((error: ServiceError) => error);
      await seen;
      expect(bindings?.clientGone()).toBe(false);
      expect(((await call) as ServiceError).code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      await vi.waitFor(() => expect(bindings?.clientGone()).toBe(true), { timeout: 5000, interval: 10 });
    } finally {
      client.close();
      await server.close();
    }
  });

  it('takes a ModelInfer frame sent over plain HTTP/2 (as a load tool sends it) as the same call', async () => {
    const seen: Array<{ path: string; body: string; auth: string | null }> = [];
    const fetch: FetchHandler = async (request) => {
      seen.push({ path: new URL(request.url).pathname, body: await request.text(), auth: request.headers.get('authorization') });
      return Response.json({ model_name: 'm', model_version: '1', outputs: [{ name: 'y', datatype: 'INT32', shape: [2], data: [7, 8] }] });
    };
    const server = await startGrpcServer({ fetch, port: 0, host: '127.0.0.1' });
    const session = connect(`http://127.0.0.1:${server.port}`);
    try {
      const frame = modelInferFrame({ model_name: 'm', inputs: [{ name: 'x', datatype: 'INT32', shape: [2], contents: { int_contents: [1, 2] } }] });
      expect(frame[0]).toBe(0);
      expect(Buffer.from(frame).readUInt32BE(1)).toBe(frame.byteLength - 5);
      const stream = session.request({ ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelInfer', 'content-type': 'application/grpc', te: 'trailers', authorization: 'Bearer k' });
      const trailers = new Promise<Record<string, unknown>>((resolve) => stream.on('trailers', resolve));
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.end(frame);
      await new Promise((resolve) => stream.on('end', resolve));
      expect((await trailers)['grpc-status']).toBe('0');
      const reply = Buffer.concat(chunks);
      expect(reply.readUInt32BE(1)).toBe(reply.byteLength - 5);
      expect(seen).toEqual([{ path: '/v2/models/m/infer', body: expect.stringContaining('"data":[1,2]'), auth: 'Bearer k' }]);
    } finally {
      session.close();
      server.forceClose();
    }
  });
});
