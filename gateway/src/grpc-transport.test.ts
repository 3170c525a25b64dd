/**
 * The gateway over gRPC: inference.GRPCInferenceService on a real HTTP/2
 * socket in front of the gateway app, with real workers behind it. Every
 * call runs the same pipeline as HTTP (auth, scopes, rate limits, sticky
 * routing, retries/fallback, shadow, metrics, logs), so these tests check
 * the HTTP behaviour through the gRPC door, message for message.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createInferenceClient, GrpcStatus, rawToValues, retryDelayOf, valuesToRaw,
  type InferenceClient, type ModelInferRequest, type ServiceError,
} from '@switchyard/grpc/client';
import type { GrpcServer } from '@switchyard/grpc/server';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { writeTypedEcho } from '@switchyard/model-worker/testing/fixture-models';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bytesResponse } from '@switchyard/observability/runtime-bindings';
import { startGatewayGrpc } from './grpc-transport.ts';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { stateFromConfig } from './flags/seed-flags.ts';
import { buildTestGateway, serveWorker, sha256, type ServedWorker, type TestGateway } from './testing/gateway-harness.ts';
import { connectTestRedis, TEST_REDIS_URL } from './testing/test-redis.ts';

const KEY = 'sy_test_full_access';
const LIMITED_KEY = 'sy_test_wide_only';
const auth = (key = KEY): Record<string, string> => ({ authorization: `Bearer ${key}` });

function fleet(ports: { v1: number[]; v2: number[] }, extra: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    version: 1,
    gateway: { response_timeout_ms: 2000, circuit_breaker: { failures: 2, cooldown_ms: 60_000 } },
    auth: {
      api_keys: [
        { id: 'full', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*', 'variant:override'] },
        { id: 'wide', sha256: sha256(LIMITED_KEY), tenant: 'acme', scopes: ['infer:wide-mlp'] },
      ],
    },
    models: {
      'seed-classifier': {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: 50, upstreams: ports.v1.map((p) => `http://127.0.0.1:${p}`) },
          { name: 'v2', version: 2, weight: 50, upstreams: ports.v2.map((p) => `http://127.0.0.1:${p}`) },
        ],
        ...extra,
      },
    },
    ...top,
  };
}

interface GrpcGateway {
  gw: TestGateway;
  grpc: GrpcServer;
  client: InferenceClient;
  close(): Promise<void>;
}

/** A gateway built by the production composition root, with gRPC in front of its fetch handler; Redis-backed when `redis` is given. */
async function grpcGateway(raw: unknown, redis?: { redisUrl: string; redisPrefix: string }): Promise<GrpcGateway> {
  const gw = await buildTestGateway(raw, redis ?? {});
  const grpc = await startGatewayGrpc({ fetch: gw.app.fetch, port: 0, host: '127.0.0.1' });
  const client = createInferenceClient(`127.0.0.1:${grpc.port}`);
  return {
    gw, grpc, client,
    async close() {
      client.close();
      await grpc.close();
      await gw.close();
    },
  };
}

const classify = (rows: number[][], extra: Partial<ModelInferRequest> = {}): ModelInferRequest => ({
  model_name: 'seed-classifier',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 2] }],
  raw_input_contents: [valuesToRaw('FP32', rows.flat())],
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded; a failure was expected');
}

async function httpError(gw: TestGateway, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; error: string }> {
  const res = await gw.app.request(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

const JSON_BODY = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] };

describe('gateway gRPC transport', () => {
  let repository: string;
  let workers: ServedWorker[];
  let g: GrpcGateway;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-gw-grpc-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    workers = await Promise.all([serveWorker(repository, 'seed-classifier'), serveWorker(repository, 'seed-classifier')]);
    g = await grpcGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }));
  });
  afterAll(async () => {
    await g.close();
    await Promise.all(workers.map((w) => w.stop()));
    await rm(repository, { recursive: true, force: true });
  });

  describe('every call', () => {
    it('answers ServerLive, ServerReady and ServerMetadata without credentials, as HTTP does', async () => {
      expect(await g.client.serverLive()).toEqual({ live: true });
      expect(await g.client.serverReady()).toEqual({ ready: true });
      expect(await g.client.serverMetadata()).toMatchObject({ name: 'switchyard-gateway', version: 'test' });
    });

    it('answers ModelMetadata and ModelReady for the routed variant, with credentials', async () => {
      const meta = await g.client.modelMetadata({ name: 'seed-classifier', version: '1' }, { metadata: auth() });
      expect(meta).toEqual({
        name: 'seed-classifier', versions: ['1'], platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: ['-1', '2'] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['-1', '2'] }],
      });
      expect(await g.client.modelReady({ name: 'seed-classifier' }, { metadata: auth() })).toEqual({ ready: true });
      const unknown = await failure(g.client.modelReady({ name: 'nope' }, { metadata: auth() }));
      expect(unknown.code).toBe(GrpcStatus.NOT_FOUND);
      expect(unknown.details).toBe((await httpError(g.gw, '/v2/models/nope/ready', auth())).error);
    });

    it('infers through the routed variant: the same numbers as HTTP, the variant and request id in the response metadata', async () => {
      const reply = await g.client.modelInfer(classify([[0.1, 0.2]], { id: 'grpc-1' }), { metadata: { ...auth(), 'x-request-id': 'rid-42', 'x-switchyard-variant': 'v2' } });
      expect(reply).toMatchObject({ model_name: 'seed-classifier', model_version: '2', id: 'grpc-1' });
      expect(reply.metadata).toMatchObject({ 'x-switchyard-variant': 'v2', 'x-request-id': 'rid-42' });
      expect(reply.metadata.ratelimit).toBeUndefined(); // no policies in this fleet
      const http = await g.gw.app.request('/v2/models/seed-classifier/versions/2/infer', {
        method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(JSON_BODY),
      });
      const expected = ((await http.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]?.data.map(Math.fround);
      expect(rawToValues('FP32', reply.raw_output_contents[0] ?? new Uint8Array())).toEqual(expected);
    });

    it('passes worker validation errors through with the worker\'s message as INVALID_ARGUMENT', async () => {
      const bad = classify([[1, 2]], { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3] }], raw_input_contents: [valuesToRaw('FP32', [1, 2, 3])] });
      const error = await failure(g.client.modelInfer(bad, { metadata: { ...auth(), 'x-switchyard-variant': 'v1' } }));
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details).toBe("input 'features': expected shape [-1, 2], got [1, 3] (dim 1 must be 2)");
    });

    it('answers an unknown model or an unserved version with NOT_FOUND and the HTTP message', async () => {
      const model = await failure(g.client.modelInfer(classify([[0, 0]], { model_name: 'nope' }), { metadata: auth() }));
      expect(model.code).toBe(GrpcStatus.NOT_FOUND);
      expect(model.details).toBe((await httpError(g.gw, '/v2/models/nope/infer', auth(), JSON_BODY)).error);
      const version = await failure(g.client.modelInfer(classify([[0, 0]], { model_version: '9' }), { metadata: auth() }));
      expect(version.code).toBe(GrpcStatus.NOT_FOUND);
      expect(version.details).toBe("model 'seed-classifier' has no variant serving version '9'");
    });
  });

  describe("Triton's extensions through the pipeline", () => {
    const getJson = async (path: string, headers: Record<string, string>) => (await g.gw.app.request(path, { headers })).json();

    it('answers ModelConfig from the pinned variant\'s worker, as HTTP does', async () => {
      const http = (await getJson('/v2/models/seed-classifier/versions/2/config', auth())) as { name: string; max_batch_size: number; output: Array<{ label_filename: string }> };
      const { config } = await g.client.modelConfig({ name: 'seed-classifier', version: '2' }, { metadata: auth() });
      expect(config).toMatchObject({ name: 'seed-classifier', platform: 'onnxruntime_onnx', max_batch_size: http.max_batch_size });
      expect(config.input).toEqual([{ name: 'features', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: ['2'] }]);
      expect(config.output.map((o) => o.label_filename)).toEqual(http.output.map((o) => o.label_filename));
    });

    it('answers ModelStatistics for the routed variant and RepositoryIndex for the fleet, as HTTP does', async () => {
      await g.client.modelInfer(classify([[0.4, 0.6]], { model_version: '1' }), { metadata: auth() });
      const stats = await g.client.modelStatistics({ name: 'seed-classifier', version: '1' }, { metadata: auth() });
      const http = (await getJson('/v2/models/seed-classifier/versions/1/stats', auth())) as { model_stats: Array<{ inference_stats: { success: { count: number } } }> };
      expect(stats.model_stats.map((m) => [m.name, m.version])).toEqual([['seed-classifier', '1']]);
      expect(Number(stats.model_stats[0]?.inference_stats.success.count)).toBeGreaterThanOrEqual(1);
      expect(Number(stats.model_stats[0]?.inference_stats.success.count)).toBe(http.model_stats[0]?.inference_stats.success.count);
      const index = await g.client.repositoryIndex({}, { metadata: auth() });
      const httpIndex = await (await g.gw.app.request('/v2/repository/index', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })).json();
      expect(index.models).toEqual(httpIndex);
      expect(index.models.map((m) => m.name)).toContain('seed-classifier');
      // Triton's client may name the repository; there is one.
      expect((await g.client.repositoryIndex({ repository_name: 'models' }, { metadata: auth() })).models).toEqual(index.models);
      // Statistics of every model (no name) are refused with the HTTP message, not looked up as a model called "stats".
      const all = await g.client.modelStatistics({ name: '' }, { metadata: auth() }).catch((error: ServiceError) => error);
      expect([(all as ServiceError).code, (all as ServiceError).details]).toEqual([GrpcStatus.INVALID_ARGUMENT, 'statistics of every model are not served through the gateway: ask for one model, GET /v2/models/{model}/stats (gRPC: ModelStatistics with a name)']);
    });

    it('applies auth and scopes, and answers an unknown model with NOT_FOUND; messages as HTTP', async () => {
      const cases: Array<[string, () => Promise<unknown>, Record<string, string>, GrpcStatus, number]> = [
        ['/v2/models/seed-classifier/config', () => g.client.modelConfig({ name: 'seed-classifier' }), {}, GrpcStatus.UNAUTHENTICATED, 401],
        ['/v2/models/seed-classifier/config', () => g.client.modelConfig({ name: 'seed-classifier' }, { metadata: auth('nope') }), auth('nope'), GrpcStatus.UNAUTHENTICATED, 401],
        ['/v2/models/seed-classifier/config', () => g.client.modelConfig({ name: 'seed-classifier' }, { metadata: auth(LIMITED_KEY) }), auth(LIMITED_KEY), GrpcStatus.PERMISSION_DENIED, 403],
        ['/v2/models/nope/config', () => g.client.modelConfig({ name: 'nope' }, { metadata: auth() }), auth(), GrpcStatus.NOT_FOUND, 404],
        ['/v2/models/seed-classifier/versions/9/config', () => g.client.modelConfig({ name: 'seed-classifier', version: '9' }, { metadata: auth() }), auth(), GrpcStatus.NOT_FOUND, 404],
        ['/v2/models/seed-classifier/stats', () => g.client.modelStatistics({ name: 'seed-classifier' }), {}, GrpcStatus.UNAUTHENTICATED, 401],
        ['/v2/models/nope/stats', () => g.client.modelStatistics({ name: 'nope' }, { metadata: auth() }), auth(), GrpcStatus.NOT_FOUND, 404],
      ];
      for (const [path, call, headers, code, status] of cases) {
        const error = await failure(call());
        const http = await httpError(g.gw, path, headers);
        expect(http.status, path).toBe(status);
        expect(error.code, path).toBe(code);
        expect(error.details, path).toBe(http.error);
      }
      const index = await failure(g.client.repositoryIndex({}));
      expect(index.code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(index.details).toBe((await httpError(g.gw, '/v2/repository/index', {}, {})).error);
    });
  });

  it('carries raw contents of every datatype through the pipeline to a worker and back, byte for byte', async () => {
    await writeTypedEcho(repository);
    const echo = await serveWorker(repository, 'typed-echo');
    const raw = fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }) as ReturnType<typeof fleet> & { models: Record<string, unknown> };
    raw.models['typed-echo'] = { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [echo.url] }] };
    const f = await grpcGateway(raw);
    try {
      const datatypes = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
      const values: Record<string, unknown[]> = {
        BOOL: [true, false], UINT8: [0, 255], UINT16: [1, 65535], UINT32: [0, 4294967295], UINT64: [18446744073709551615n, 1n],
        INT8: [-128, 127], INT16: [-32768, 5], INT32: [-2147483648, 7], INT64: [-9223372036854775808n, 42n],
        FP16: [1.5, -0.25], FP32: [Number.NaN, -3.25], FP64: [1e-300, Number.POSITIVE_INFINITY], BYTES: ['héllo', '"\\'],
      };
      const sent = datatypes.map((d) => valuesToRaw(d, values[d] ?? []));
      const reply = await f.client.modelInfer({
        model_name: 'typed-echo',
        inputs: datatypes.map((datatype) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [1, 2] })),
        raw_input_contents: sent,
      }, { metadata: auth() });
      // NaN and infinity included: no JSON on the way.
      expect(new Map(reply.outputs.map((o, i) => [o.name, Buffer.from(reply.raw_output_contents[i] ?? [])])))
        .toEqual(new Map(datatypes.map((d, i) => [`out_${d.toLowerCase()}`, sent[i]])));
    } finally {
      await f.close();
      await echo.stop();
    }
  });

  it('applies the body limit to the translated request: RESOURCE_EXHAUSTED with the HTTP message', async () => {
    const small = await grpcGateway({ ...fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }), gateway: { body_limit_bytes: 1024 } });
    try {
      // 160 rows of raw FP32: 1280 bytes after the binary body's JSON header.
      const rows = Array.from({ length: 160 }, (_, i) => [i / 7, -i / 3]);
      const error = await failure(small.client.modelInfer(classify(rows), { metadata: auth() }));
      expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(error.details).toBe('request body exceeds 1024 bytes');
    } finally {
      await small.close();
    }
  });

  describe('access', () => {
    it('no credentials or a wrong key → UNAUTHENTICATED; a model outside the scopes → PERMISSION_DENIED; messages as HTTP', async () => {
      const path = '/v2/models/seed-classifier/infer';
      const cases: Array<[Record<string, string>, GrpcStatus, number]> = [
        [{}, GrpcStatus.UNAUTHENTICATED, 401],
        [auth('nope'), GrpcStatus.UNAUTHENTICATED, 401],
        [auth(LIMITED_KEY), GrpcStatus.PERMISSION_DENIED, 403],
        [{ ...auth(LIMITED_KEY), 'x-switchyard-variant': 'v2' }, GrpcStatus.PERMISSION_DENIED, 403],
      ];
      for (const [metadata, code, status] of cases) {
        const error = await failure(g.client.modelInfer(classify([[0, 0]]), { metadata }));
        const http = await httpError(g.gw, path, metadata, JSON_BODY);
        expect(http.status).toBe(status);
        expect(error.code).toBe(code);
        expect(error.details).toBe(http.error);
      }
      const meta = await failure(g.client.modelMetadata({ name: 'seed-classifier' }));
      expect(meta.code).toBe(GrpcStatus.UNAUTHENTICATED);
    });

    it('refuses the variant override without its scope, and an unknown variant with INVALID_ARGUMENT', async () => {
      const unknown = await failure(g.client.modelInfer(classify([[0, 0]]), { metadata: { ...auth(), 'x-switchyard-variant': 'v9' } }));
      expect(unknown.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(unknown.details).toBe((await httpError(g.gw, '/v2/models/seed-classifier/infer', { ...auth(), 'x-switchyard-variant': 'v9' }, JSON_BODY)).error);
    });
  });

  describe('routing', () => {
    it('keeps a user (from metadata) on one variant and spreads users by weight', async () => {
      const seen = new Map<string, string>();
      for (let i = 0; i < 120; i++) {
        const user = `grpc-user-${i % 40}`;
        const reply = await g.client.modelInfer(classify([[0.3, 0.4]]), { metadata: { ...auth(), 'x-switchyard-user': user } });
        const variant = reply.metadata['x-switchyard-variant'] ?? '';
        expect(reply.model_version).toBe(variant === 'v1' ? '1' : '2');
        if (seen.has(user)) expect(variant).toBe(seen.get(user));
        seen.set(user, variant);
      }
      const v2 = [...seen.values()].filter((v) => v === 'v2').length;
      expect(v2).toBeGreaterThan(5);
      expect(v2).toBeLessThan(35);
    });

    it('puts a user on the same variant over gRPC as over HTTP', async () => {
      for (let i = 0; i < 10; i++) {
        const headers = { ...auth(), 'x-switchyard-user': `both-${i}` };
        const reply = await g.client.modelInfer(classify([[0, 0]]), { metadata: headers });
        const http = await g.gw.app.request('/v2/models/seed-classifier/infer', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(JSON_BODY) });
        expect(reply.metadata['x-switchyard-variant']).toBe(http.headers.get('x-switchyard-variant'));
      }
    });
  });

  describe('rate limits', () => {
    it('answers past the burst with RESOURCE_EXHAUSTED, the HTTP message, retry-after and RetryInfo', async () => {
      const limited = await grpcGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }, {}, {
        rate_limits: { policies: [{ name: 'tight', per: 'tenant', rate: 1, period_seconds: 60, burst: 3 }] },
      }));
      try {
        for (let i = 0; i < 3; i++) {
          const ok = await limited.client.modelInfer(classify([[0, 0]]), { metadata: auth() });
          expect(ok.metadata['ratelimit-policy']).toBe('"tight";q=1;w=60');
        }
        const error = await failure(limited.client.modelInfer(classify([[0, 0]]), { metadata: auth() }));
        expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
        expect(error.details).toMatch(/^rate limit 'tight' exceeded; retry in \d+ s$/);
        const retryAfter = Number(error.metadata.get('retry-after')[0]);
        expect(retryAfter).toBeGreaterThan(0);
        const details = error.metadata.get('grpc-status-details-bin')[0];
        expect(details).toBeInstanceOf(Buffer);
        expect(retryDelayOf(details as Buffer)).toBe(retryAfter);
        // The HTTP door shares the bucket: it is empty there too.
        expect((await httpError(limited.gw, '/v2/models/seed-classifier/infer', auth(), JSON_BODY)).status).toBe(429);
      } finally {
        await limited.close();
      }
    });
  });

  describe('rate limits across two gateways (Redis)', () => {
    it('admits no more than the policy allows in a window across both replicas\' gRPC ports', async () => {
      const redis = await connectTestRedis();
      const raw = fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }, {}, {
        rate_limits: { policies: [{ name: 'shared', per: 'tenant', rate: 1, period_seconds: 3600, burst: 6 }] },
      });
      const a = await grpcGateway(raw, { redisUrl: TEST_REDIS_URL, redisPrefix: redis.prefix });
      const b = await grpcGateway(raw, { redisUrl: TEST_REDIS_URL, redisPrefix: redis.prefix });
      try {
        const codes: GrpcStatus[] = [];
        for (let i = 0; i < 10; i++) {
          const client = i % 2 === 0 ? a.client : b.client;
          codes.push(await client.modelInfer(classify([[0, 0]]), { metadata: auth() }).then(() => GrpcStatus.OK, (e: ServiceError) => e.code));
        }
        expect(codes.filter((c) => c === GrpcStatus.OK)).toHaveLength(6);
        expect(codes.slice(6)).toEqual(Array(4).fill(GrpcStatus.RESOURCE_EXHAUSTED));
      } finally {
        await a.close();
        await b.close();
        await redis.close();
      }
    });
  });

  describe('flags', () => {
    it('routes gRPC calls by the live flags: a kill switch, then a full shift, each effective on the next call', async () => {
      const raw = fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] });
      const config = parseFleetConfig(raw, 'flags test');
      const f = await grpcGateway(raw);
      const flags = f.gw.gateway.flags; // the gateway's own flag store, as the admin API writes it
      const model = config.models['seed-classifier'];
      const variantsServing = async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) {
          const reply = await f.client.modelInfer(classify([[0, 0]]), { metadata: { ...auth(), 'x-switchyard-user': `flag-user-${i}` } });
          seen.add(reply.metadata['x-switchyard-variant'] ?? '');
        }
        return [...seen].sort();
      };
      try {
        if (!model) throw new Error('seed-classifier is missing from the test fleet');
        expect(await variantsServing()).toEqual(['v1', 'v2']);
        await flags.set('seed-classifier', { ...stateFromConfig(model), kill: true }, 1, 'test', 'kill switch');
        expect(await variantsServing()).toEqual(['v1']);
        await flags.set('seed-classifier', { ...stateFromConfig(model), weights: { v1: 0, v2: 100 } }, 2, 'test', 'all to v2');
        expect(await variantsServing()).toEqual(['v2']);
      } finally {
        await f.close();
      }
    });
  });

  describe('tracing', () => {
    it('continues the caller\'s trace from call metadata in the gateway\'s server span', async () => {
      const exporter = new InMemorySpanExporter();
      const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      provider.register();
      try {
        const traceId = 'ab'.repeat(16);
        await g.client.modelInfer(classify([[0, 0]]), { metadata: { ...auth(), traceparent: `00-${traceId}-${'cd'.repeat(8)}-01`, 'x-switchyard-variant': 'v1' } });
        const server = exporter.getFinishedSpans().find((span) => span.name === 'POST /v2/models/:model/infer' && span.spanContext().traceId === traceId);
        expect(server?.parentSpanContext?.spanId).toBe('cd'.repeat(8));
        expect(server?.attributes).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.variant': 'v1', 'http.response.status_code': 200 });
      } finally {
        await provider.shutdown();
        trace.disable();
        context.disable();
        propagation.disable();
      }
    });
  });

  describe('failover', () => {
    it('falls back to the stable variant when the chosen variant\'s worker is dead', async () => {
      const dead = await serveWorker(repository, 'seed-classifier');
      const f = await grpcGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [dead.port] }));
      await dead.stop();
      try {
        for (let i = 0; i < 20; i++) {
          const reply = await f.client.modelInfer(classify([[0, 0]]), { metadata: { ...auth(), 'x-switchyard-user': `gone-${i}` } });
          expect(reply.metadata['x-switchyard-variant']).toBe('v1');
          expect(reply.model_version).toBe('1');
        }
      } finally {
        await f.close();
      }
    });

    it('answers UNAVAILABLE with the HTTP message when nothing healthy remains; ModelReady false, the server itself still ready', async () => {
      const dead = await serveWorker(repository, 'seed-classifier');
      const f = await grpcGateway(fleet({ v1: [dead.port], v2: [dead.port] }));
      await dead.stop();
      try {
        const error = await failure(f.client.modelInfer(classify([[0, 0]]), { metadata: auth() }));
        expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
        expect(error.details).toMatch(/^no healthy upstream for model 'seed-classifier'/);
        await f.gw.health.checkAll();
        expect(await f.client.serverReady()).toEqual({ ready: true });
        expect(await f.client.modelReady({ name: 'seed-classifier' }, { metadata: auth() })).toEqual({ ready: false });
      } finally {
        await f.close();
      }
    });
  });

  describe('shadow', () => {
    it('copies a gRPC call to the shadow variant and answers from the primary', async () => {
      let copied: (copy: { headers: IncomingHttpHeaders; body: Buffer }) => void = () => undefined;
      const received = new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve) => (copied = resolve));
      const shadowWorker = createServer((req, res) => {
        if (req.url === '/v2/health/ready') return void res.end('{"ready":true}');
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          copied({ headers: req.headers, body: Buffer.concat(chunks) });
          res.setHeader('content-type', 'application/json');
          res.end('{"model_name":"seed-classifier","model_version":"2","outputs":[]}');
        });
      });
      await new Promise<void>((r) => shadowWorker.listen(0, '127.0.0.1', () => r()));
      const port = (shadowWorker.address() as AddressInfo).port;
      const f = await grpcGateway(fleet({ v1: [workers[0]?.port ?? 0], v2: [port] }, { shadow: { variant: 'v2', percent: 100 } }));
      try {
        const reply = await f.client.modelInfer(classify([[0.5, 0.5]]), { metadata: { ...auth(), 'x-switchyard-variant': 'v1' } });
        expect(reply.model_version).toBe('1');
        expect(reply.metadata['x-switchyard-variant']).toBe('v1');
        // The copy is the binary body the primary got: JSON header, then the raw contents byte for byte.
        const copy = await received;
        const headerLength = Number(copy.headers['inference-header-content-length']);
        expect(JSON.parse(copy.body.subarray(0, headerLength).toString())).toMatchObject({
          parameters: { binary_data_output: true }, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } }],
        });
        expect(copy.body.subarray(headerLength)).toEqual(valuesToRaw('FP32', [0.5, 0.5]));
      } finally {
        await f.close();
        shadowWorker.closeAllConnections();
        shadowWorker.close();
      }
    });

    it('compares the binary answers of primary and shadow: the same version on both sides agrees', async () => {
      const raw = fleet({ v1: [workers[0]?.port ?? 0], v2: [workers[1]?.port ?? 0] }, { shadow: { variant: 'v2', percent: 100 } });
      const variants = raw.models['seed-classifier'].variants as Array<{ version: number }>;
      if (variants[1]) variants[1].version = 1; // v2 runs version 1 as well, so its outputs must match v1's
      const f = await grpcGateway(raw);
      try {
        await f.client.modelInfer(classify([[0.2, 0.9], [0.7, 0.1]]), { metadata: { ...auth(), 'x-switchyard-variant': 'v1' } });
        const agreed = /switchyard_gateway_shadow_requests_total\{model="seed-classifier",variant="v2",outcome="agree"\} 1\b/;
        await vi.waitFor(async () => expect(await (await f.gw.app.request('/metrics')).text()).toMatch(agreed), { timeout: 5000, interval: 20 });
      } finally {
        await f.close();
      }
    });
  });

  describe('what reaches the worker', () => {
    let upstream: Server;
    let seen: IncomingHttpHeaders[];
    let f: GrpcGateway;

    beforeAll(async () => {
      seen = [];
      upstream = createServer((req, res) => {
        if (req.url === '/v2/health/ready') return void res.end('{"ready":true}');
        seen.push(req.headers);
        if (req.url?.endsWith('/infer')) {
          res.setHeader('content-type', 'application/json');
          return void res.end('{"model_name":"seed-classifier","model_version":"1","outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]}]}');
        }
        // A worker that never answers: the gateway's response timeout decides.
      });
      await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
      const port = (upstream.address() as AddressInfo).port;
      f = await grpcGateway({ ...fleet({ v1: [port], v2: [port] }), gateway: { response_timeout_ms: 300 } });
    });
    afterAll(async () => {
      await f.close();
      upstream.closeAllConnections();
      upstream.close();
    });

    it('carries traceparent and the request id from call metadata to the worker, and never the credential', async () => {
      const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
      const reply = await f.client.modelInfer(classify([[1, 2]]), { metadata: { ...auth(), traceparent, 'x-request-id': 'trace-me' } });
      expect(rawToValues('FP32', reply.raw_output_contents[0] ?? new Uint8Array())).toEqual([0.25, 0.75]);
      const headers = seen.at(-1);
      // Tensors travel in Triton's binary extension: a JSON header of this many bytes, then raw contents.
      expect(headers?.['content-type']).toBe('application/octet-stream');
      expect(Number(headers?.['inference-header-content-length'])).toBeGreaterThan(0);
      expect(headers?.traceparent).toBe(traceparent);
      expect(headers?.['x-request-id']).toBe('trace-me');
      expect(headers?.authorization).toBeUndefined();
    });

    it('records a caller that gave up (its deadline passed) as 499 in the access log, as HTTP records a closed connection', async () => {
      const error = await failure(f.client.modelMetadata({ name: 'seed-classifier' }, { metadata: { ...auth(), 'x-request-id': 'gave-up' }, timeoutMs: 50 }));
      expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      await vi.waitFor(() => expect(f.gw.logs.lines.find((l) => l.request_id === 'gave-up')).toMatchObject({ status: 499 }), { timeout: 5000, interval: 20 });
    });

    it('answers DEADLINE_EXCEEDED with the HTTP message when the worker does not answer in time', async () => {
      const error = await failure(f.client.modelMetadata({ name: 'seed-classifier' }, { metadata: auth() }));
      expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
      expect(error.details).toMatch(/did not answer within 300 ms/);
    });
  });

  it('records gRPC calls in the gateway\'s own access log and request metrics', async () => {
    const before = g.gw.logs.lines.length;
    await g.client.modelInfer(classify([[0, 0]]), { metadata: { ...auth(), 'x-request-id': 'grpc-access-log' } });
    expect(g.gw.logs.lines.slice(before).find((l) => l.request_id === 'grpc-access-log')).toMatchObject({ msg: 'request served', status: 200, model: 'seed-classifier', subject: 'full' });
    expect(await (await g.gw.app.request('/metrics')).text()).toMatch(/switchyard_gateway_requests_total\{[^}]*model="seed-classifier"[^}]*\} [1-9]/);
  });
});

describe("the gateway's gRPC transport settings", () => {
  it('hands the pipeline a call request with runtime bindings (no standard Request built) and takes a bytesResponse answer without reading its stream', async () => {
    const seen: Array<{ built: boolean; url: string; body: unknown; hasBindings: boolean }> = [];
    const answers: Response[] = [];
    const grpc = await startGatewayGrpc({
      port: 0, host: '127.0.0.1',
      fetch: (request, bindings) => {
        seen.push({ built: Object.getPrototypeOf(request) === Request.prototype, url: request.url, body: request.body, hasBindings: typeof bindings?.readBody === 'function' });
        const res = bytesResponse(new TextEncoder().encode('{"name":"switchyard-gateway","version":"t","extensions":[]}'), { status: 200, headers: { 'content-type': 'application/json' } });
        answers.push(res);
        return res;
      },
    });
    const client = createInferenceClient(`127.0.0.1:${grpc.port}`);
    try {
      expect(await client.serverMetadata()).toEqual({ name: 'switchyard-gateway', version: 't', extensions: [] });
      expect(seen).toEqual([{ built: false, url: `http://127.0.0.1:${grpc.port}/v2`, body: null, hasBindings: true }]);
      expect(answers[0]?.bodyUsed).toBe(false);
    } finally {
      client.close();
      await grpc.close();
    }
  });
});
