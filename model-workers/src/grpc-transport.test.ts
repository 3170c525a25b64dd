/**
 * Conformance of the worker's gRPC transport (inference.GRPCInferenceService
 * on a real HTTP/2 socket in front of the worker app), checked against the
 * protocol specification and against the worker's own HTTP answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@switchyard/observability/logger';
import { createMetricsRegistry } from '@switchyard/observability/metrics';
import {
  createInferenceClient, GrpcStatus, rawToValues, valuesToRaw,
  type InferenceClient, type InferTensorContents, type ModelInferRequest, type ServiceError,
} from '@switchyard/grpc/client';
import type { GrpcServer } from '@switchyard/grpc/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerGrpc } from './grpc-transport.ts';
import { createWorkerApp } from './app.ts';
import { WorkerMetrics } from './metrics/worker-metrics.ts';
import { ModelHost } from './model-host.ts';
import { DATATYPES } from './protocol/datatypes.ts';
import { writeSampleRepository } from './samples/write-samples.ts';
import { writeTypedEcho } from './testing/fixture-models.ts';
import { postJson, startInProcessWorker, type InProcessWorker } from './testing/worker-harness.ts';

interface Served {
  grpc: GrpcServer;
  client: InferenceClient;
}

async function serveGrpc(fetch: (request: Request) => Response | Promise<Response>): Promise<Served> {
  const grpc = await startWorkerGrpc({ fetch, port: 0, host: '127.0.0.1' });
  return { grpc, client: createInferenceClient(`127.0.0.1:${grpc.port}`) };
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded; a failure was expected');
}

const fp32 = (rows: number[][]): Buffer => valuesToRaw('FP32', rows.flat());

function classify(rows: number[][], extra: Partial<ModelInferRequest> = {}): ModelInferRequest {
  return {
    model_name: 'seed-classifier',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 2] }],
    raw_input_contents: [fp32(rows)],
    ...extra,
  };
}

describe('worker gRPC transport', () => {
  let repository: string;
  let worker: InProcessWorker;
  let echo: InProcessWorker;
  let served: Served;
  let echoServed: Served;

  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-grpc-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    await writeTypedEcho(repository);
    worker = await startInProcessWorker({ repository, model: 'seed-classifier', maxBodyBytes: 64 * 1024 });
    echo = await startInProcessWorker({ repository, model: 'typed-echo' });
    served = await serveGrpc(worker.app.fetch);
    echoServed = await serveGrpc(echo.app.fetch);
  });
  afterAll(async () => {
    for (const s of [served, echoServed]) {
      s.client.close();
      await s.grpc.close();
    }
    await worker.close();
    await echo.close();
    await rm(repository, { recursive: true, force: true });
  });

  describe('health and metadata', () => {
    it('answers ServerLive, ServerReady and ServerMetadata as the HTTP endpoints do', async () => {
      expect(await served.client.serverLive()).toEqual({ live: true });
      expect(await served.client.serverReady()).toEqual({ ready: true });
      const http = (await (await worker.app.request('/v2')).json()) as { name: string; version: string; extensions: string[] };
      expect(await served.client.serverMetadata()).toEqual({ name: http.name, version: http.version, extensions: http.extensions });
    });

    it('answers ModelMetadata with the versions, platform and tensors of the HTTP metadata (-1 for the batch dimension)', async () => {
      expect(await served.client.modelMetadata({ name: 'seed-classifier' })).toEqual({
        name: 'seed-classifier',
        versions: ['1', '2'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: ['-1', '2'] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['-1', '2'] }],
      });
      expect((await served.client.modelMetadata({ name: 'seed-classifier', version: '1' })).versions).toEqual(['1']);
    });

    it('answers ModelReady per version, and NOT_FOUND with the HTTP message for unknown models and versions', async () => {
      expect(await served.client.modelReady({ name: 'seed-classifier' })).toEqual({ ready: true });
      expect(await served.client.modelReady({ name: 'seed-classifier', version: '2' })).toEqual({ ready: true });
      for (const [ref, path] of [
        [{ name: 'nope' }, '/v2/models/nope/ready'],
        [{ name: 'seed-classifier', version: '9' }, '/v2/models/seed-classifier/versions/9/ready'],
      ] as const) {
        const error = await failure(served.client.modelReady(ref));
        const http = (await (await worker.app.request(path)).json()) as { error: string };
        expect(error.code).toBe(GrpcStatus.NOT_FOUND);
        expect(error.details).toBe(http.error);
      }
    });

    it('answers a model that is still loading with ready=false, and UNAVAILABLE for inference', async () => {
      const metrics = createMetricsRegistry({ service: 'loading-worker' });
      const host = new ModelHost('seed-classifier');
      const app = createWorkerApp({
        host, logger: createLogger({ service: 't', level: 'silent' }), metrics, workerMetrics: new WorkerMetrics(metrics.meter, metrics.fast, 'seed-classifier'),
        maxBodyBytes: 1024 * 1024, serverVersion: 'test',
      });
      const loading = await serveGrpc(app.fetch);
      try {
        expect(await loading.client.serverReady()).toEqual({ ready: false });
        expect(await loading.client.serverLive()).toEqual({ live: true });
        const error = await failure(loading.client.modelInfer(classify([[0, 0]])));
        expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
        expect(error.details).toBe("model 'seed-classifier' is still loading");
      } finally {
        loading.client.close();
        await loading.grpc.close();
        await metrics.shutdown();
      }
    });
  });

  describe("Triton's extensions", () => {
    interface HttpConfig {
      name: string; platform: string; backend: string; max_batch_size: number;
      version_policy: { specific: { versions: number[] } };
      input: Array<{ name: string; data_type: string; format: string; dims: number[] }>;
      output: Array<{ name: string; data_type: string; dims: number[]; label_filename: string }>;
      dynamic_batching: { max_queue_delay_microseconds: number; default_queue_policy: { max_queue_size: number } };
      instance_group: Array<{ name: string; kind: string; count: number }>;
      parameters: Record<string, { string_value: string }>;
    }

    it('answers ModelConfig with the fields of the HTTP configuration, enums by name, labels and batching included', async () => {
      const http = (await (await worker.app.request('/v2/models/seed-classifier/config')).json()) as HttpConfig;
      const { config } = await served.client.modelConfig({ name: 'seed-classifier' });
      const dims = (d: number[]) => d.map(String);
      expect(config).toMatchObject({
        name: 'seed-classifier', platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: http.max_batch_size,
        version_policy: { policy_choice: 'specific', specific: { versions: ['1', '2'] } },
        input: http.input.map((i) => ({ ...i, dims: dims(i.dims) })),
        output: http.output.map((o) => ({ ...o, dims: dims(o.dims) })),
        scheduling_choice: 'dynamic_batching',
        dynamic_batching: {
          preferred_batch_size: [],
          max_queue_delay_microseconds: String(http.dynamic_batching.max_queue_delay_microseconds),
          default_queue_policy: http.dynamic_batching.default_queue_policy,
        },
        instance_group: http.instance_group,
        parameters: http.parameters,
      });
      expect(config.max_batch_size).toBeGreaterThan(0);
      expect(config.input).toEqual([{ name: 'features', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: ['2'] }]);
      expect(config.output).toEqual([{ name: 'probabilities', data_type: 'TYPE_FP32', dims: ['2'], label_filename: 'labels.txt' }]);
    });

    it('answers ModelConfig for a pinned version, with every datatype named as Triton names it (BYTES is TYPE_STRING)', async () => {
      expect((await served.client.modelConfig({ name: 'seed-classifier', version: '1' })).config.name).toBe('seed-classifier');
      const { config } = await echoServed.client.modelConfig({ name: 'typed-echo' });
      const http = (await (await echo.app.request('/v2/models/typed-echo/config')).json()) as HttpConfig;
      expect(config.input.map((i) => i.data_type)).toEqual(http.input.map((i) => i.data_type));
      expect(config.input.map((i) => i.data_type)).toContain('TYPE_STRING');
      expect(config.input.map((i) => i.data_type)).toContain('TYPE_FP16');
      expect(config.input.map((i) => i.data_type)).not.toContain('TYPE_INVALID');
    });

    it('answers ModelConfig for an unknown model or version with NOT_FOUND and the HTTP message, and without a name with INVALID_ARGUMENT', async () => {
      for (const [ref, path] of [
        [{ name: 'nope' }, '/v2/models/nope/config'],
        [{ name: 'seed-classifier', version: '9' }, '/v2/models/seed-classifier/versions/9/config'],
      ] as const) {
        const error = await failure(served.client.modelConfig(ref));
        const http = await worker.app.request(path);
        expect(http.status).toBe(404);
        expect(error.code).toBe(GrpcStatus.NOT_FOUND);
        expect(error.details).toBe(((await http.json()) as { error: string }).error);
      }
      const unnamed = await failure(served.client.modelConfig({ name: '' }));
      expect(unnamed.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(unnamed.details).toBe('model name is required');
    });

    it('answers ModelStatistics with the counts the HTTP statistics report, growing with each inference', async () => {
      const before = await served.client.modelStatistics({ name: 'seed-classifier', version: '1' });
      await served.client.modelInfer(classify([[0.3, 0.1], [0.2, 0.2]], { model_version: '1' }));
      const after = await served.client.modelStatistics({ name: 'seed-classifier', version: '1' });
      const http = (await (await worker.app.request('/v2/models/seed-classifier/versions/1/stats')).json()) as {
        model_stats: Array<{ inference_count: number; inference_stats: { success: { count: number } } }>;
      };
      const count = (r: typeof before) => Number(r.model_stats[0]?.inference_stats.success.count);
      expect(after.model_stats.map((m) => [m.name, m.version])).toEqual([['seed-classifier', '1']]);
      expect(count(after)).toBe(count(before) + 1);
      expect(Number(after.model_stats[0]?.inference_count)).toBe(Number(before.model_stats[0]?.inference_count) + 2);
      expect(count(after)).toBe(http.model_stats[0]?.inference_stats.success.count);
      expect((await served.client.modelStatistics({})).model_stats.map((m) => m.version)).toEqual(['1', '2']);
      const unknown = await failure(served.client.modelStatistics({ name: 'nope' }));
      expect(unknown.code).toBe(GrpcStatus.NOT_FOUND);
      expect(unknown.details).toBe(((await (await worker.app.request('/v2/models/nope/stats')).json()) as { error: string }).error);
    });

    it('answers RepositoryIndex as POST /v2/repository/index does', async () => {
      const http = (await (await postJson(worker.app, '/v2/repository/index', { ready: true })).json()) as unknown[];
      const index = await served.client.repositoryIndex({ ready: true });
      expect(index.models).toEqual(http);
      expect(index.models).toEqual([
        { name: 'seed-classifier', version: '1', state: 'READY', reason: '' },
        { name: 'seed-classifier', version: '2', state: 'READY', reason: '' },
      ]);
    });
  });

  describe('ModelInfer', () => {
    it('returns what HTTP JSON returns, as raw_output_contents, with the id echoed and the version named', async () => {
      const rows = [[0.1, 0.2], [0.9, -0.4], [0.5, 0.5]];
      const reply = await served.client.modelInfer(classify(rows, { id: 'req-7' }));
      const http = (await (await postJson(worker.app, '/v2/models/seed-classifier/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [3, 2], data: rows }] })).json()) as {
        outputs: Array<{ data: number[] }>;
      };
      expect(reply).toMatchObject({ model_name: 'seed-classifier', model_version: '2', id: 'req-7' });
      expect(reply.outputs).toEqual([{ name: 'probabilities', datatype: 'FP32', shape: ['3', '2'], parameters: {}, contents: null }]);
      expect(reply.raw_output_contents).toHaveLength(1);
      const values = rawToValues('FP32', reply.raw_output_contents[0] ?? new Uint8Array());
      expect(values).toEqual(http.outputs[0]?.data.map(Math.fround));
    });

    it('accepts typed contents as well as raw contents, and a pinned version', async () => {
      const typed = await served.client.modelInfer({
        model_name: 'seed-classifier', model_version: '1',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [0.25, 0.75] } }],
      });
      const raw = await served.client.modelInfer(classify([[0.25, 0.75]], { model_version: '1' }));
      expect(typed.model_version).toBe('1');
      expect(typed.raw_output_contents).toEqual(raw.raw_output_contents);
    });

    it('carries every datatype raw and typed through a model that echoes it', async () => {
      const values: Record<string, unknown[]> = {
        BOOL: [true, false], UINT8: [0, 255], UINT16: [1, 65535], UINT32: [0, 4294967295], UINT64: [18446744073709551615n, 1n],
        INT8: [-128, 127], INT16: [-32768, 5], INT32: [-2147483648, 7], INT64: [-9223372036854775808n, 42n],
        FP16: [1.5, -0.25], FP32: [0.5, -3.25], FP64: [1e-300, 2.5], BYTES: ['héllo', ''],
      };
      const inputs = DATATYPES.map((datatype) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [1, 2] }));
      const reply = await echoServed.client.modelInfer({
        model_name: 'typed-echo', inputs, raw_input_contents: DATATYPES.map((d) => valuesToRaw(d, values[d] ?? [])),
      });
      expect(reply.outputs.map((o) => o.name)).toEqual(DATATYPES.map((d) => `out_${d.toLowerCase()}`));
      reply.outputs.forEach((output, i) => {
        const decoded = rawToValues(output.datatype, reply.raw_output_contents[i] ?? new Uint8Array());
        const expected = output.datatype === 'BYTES' ? ['héllo', ''].map((t) => Buffer.from(t)) : values[output.datatype];
        expect(decoded.map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v)), output.datatype).toEqual(expected);
      });

      // Typed contents: each datatype in its own field; FP16 has none.
      const contents: Record<string, InferTensorContents> = {
        BOOL: { bool_contents: [true, false] }, UINT8: { uint_contents: [0, 255] }, UINT16: { uint_contents: [1, 65535] },
        UINT32: { uint_contents: [0, 4294967295] }, UINT64: { uint64_contents: ['18446744073709551615', '1'] }, INT8: { int_contents: [-128, 127] },
        INT16: { int_contents: [-32768, 5] }, INT32: { int_contents: [-2147483648, 7] }, INT64: { int64_contents: ['-9223372036854775808', '42'] },
        FP16: {}, FP32: { fp32_contents: [0.5, -3.25] }, FP64: { fp64_contents: [1e-300, 2.5] }, BYTES: { bytes_contents: [Buffer.from('héllo'), Buffer.alloc(0)] },
      };
      const typed = await echoServed.client
        .modelInfer({ model_name: 'typed-echo', inputs: inputs.map((input) => ({ ...input, contents: contents[input.datatype] ?? {} })) })
        .catch((error: unknown) => error as ServiceError);
      // FP16 has no typed field: without raw contents it has no elements, and the worker says so.
      expect((typed as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect((typed as ServiceError).details).toBe("input 'in_fp16': shape [1, 2] holds 2 elements, data has 0");
    });

    it('hands the app a binary-extension body: the JSON header, then the raw contents untouched (never JSON data)', async () => {
      const bodies: Array<{ headers: Headers; bytes: Uint8Array }> = [];
      const observed = await serveGrpc(async (request) => {
        const bytes = new Uint8Array(await request.clone().arrayBuffer());
        bodies.push({ headers: request.headers, bytes });
        return echo.app.fetch(request);
      });
      try {
        const text = valuesToRaw('BYTES', ['a"\\', 'é\n']); // a quote, a backslash, a 2-byte letter, a newline
        const half = valuesToRaw('FP16', [1.5, -0.25]);
        const reply = await observed.client.modelInfer({
          model_name: 'typed-echo',
          inputs: DATATYPES.map((datatype) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [1, 2] })),
          raw_input_contents: DATATYPES.map((d) => (d === 'BYTES' ? text : d === 'FP16' ? half : valuesToRaw(d, [1, 0]))),
          outputs: [{ name: 'out_bytes' }, { name: 'out_fp16' }],
        });
        const body = bodies.at(-1);
        const headerLength = Number(body?.headers.get('inference-header-content-length'));
        expect(body?.headers.get('content-type')).toBe('application/octet-stream');
        expect(headerLength).toBeGreaterThan(0);
        const header = JSON.parse(Buffer.from(body?.bytes.subarray(0, headerLength) ?? []).toString()) as { inputs: Array<{ data?: unknown; parameters: { binary_data_size: number } }> };
        expect(header.inputs.every((input) => input.data === undefined)).toBe(true);
        expect(Buffer.from(body?.bytes.subarray(headerLength) ?? [])).toEqual(Buffer.concat(DATATYPES.map((d) => (d === 'BYTES' ? text : d === 'FP16' ? half : valuesToRaw(d, [1, 0])))));
        // BYTES and FP16 come back exactly, as binary outputs.
        const byName = new Map(reply.outputs.map((o, i) => [o.name, Buffer.from(reply.raw_output_contents[i] ?? [])]));
        expect(byName).toEqual(new Map([['out_bytes', text], ['out_fp16', half]]));
      } finally {
        observed.client.close();
        await observed.grpc.close();
      }
    });

    it('answers class_count with top-k BYTES "score:index:label" as HTTP does', async () => {
      const rows = [[0.9, -0.4]];
      const reply = await served.client.modelInfer(classify(rows, { outputs: [{ name: 'probabilities', parameters: { class_count: { int64_param: 1 } } }] }));
      const http = (await (await postJson(worker.app, '/v2/models/seed-classifier/infer', {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: rows }], outputs: [{ name: 'probabilities', parameters: { class_count: 1 } }],
      })).json()) as { outputs: Array<{ datatype: string; shape: number[]; data: string[] }> };
      expect(reply.outputs.map((o) => [o.datatype, o.shape.map(Number)])).toEqual([['BYTES', http.outputs[0]?.shape]]);
      const labels = rawToValues('BYTES', reply.raw_output_contents[0] ?? new Uint8Array()).map((v) => Buffer.from(v as Uint8Array).toString());
      expect(labels).toEqual(http.outputs[0]?.data);
      expect(labels[0]).toMatch(/^[\d.e-]+:[01]:(outside|inside)$/);
    });

    it('returns only the outputs asked for', async () => {
      const reply = await echoServed.client.modelInfer({
        model_name: 'typed-echo',
        inputs: DATATYPES.map((datatype) => ({ name: `in_${datatype.toLowerCase()}`, datatype, shape: [1, 2] })),
        raw_input_contents: DATATYPES.map((d) => valuesToRaw(d, d === 'BYTES' ? ['a', 'b'] : [1, 0])),
        outputs: [{ name: 'out_int32' }],
      });
      expect(reply.outputs.map((o) => o.name)).toEqual(['out_int32']);
      expect(rawToValues('INT32', reply.raw_output_contents[0] ?? new Uint8Array())).toEqual([1, 0]);
    });

    it('goes through the worker app: the HTTP access log and request metrics count it', async () => {
      const before = worker.logs.lines.length;
      await served.client.modelInfer(classify([[0, 1]]), { metadata: { 'x-request-id': 'grpc-log-check' } });
      const line = worker.logs.lines.slice(before).find((l) => l.request_id === 'grpc-log-check');
      expect(line).toMatchObject({ msg: 'inference served', status: 200, model: 'seed-classifier' });
      expect(await worker.metrics.render()).toMatch(/status="200"/);
    });
  });

  describe('bad input gets the HTTP message under the matching status', () => {
    const json = (inputs: unknown[]) => ({ inputs });
    const cases: Array<[string, ModelInferRequest, unknown]> = [
      ['an unknown input', classify([[1, 2]], { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2] }] }), json([{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }])],
      ['a wrong datatype', { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'INT32', shape: [1, 2], contents: { int_contents: [1, 2] } }] },
        json([{ name: 'features', datatype: 'INT32', shape: [1, 2], data: [1, 2] }])],
      ['an unknown datatype', { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FLOAT', shape: [1, 2] }], raw_input_contents: [fp32([[1, 2]])] },
        json([{ name: 'features', datatype: 'FLOAT', shape: [1, 2], data: [] }])],
      ['a wrong rank', classify([[1, 2]], { inputs: [{ name: 'features', datatype: 'FP32', shape: [2] }] }), json([{ name: 'features', datatype: 'FP32', shape: [2], data: [1, 2] }])],
      ['a batch over the maximum', classify(Array.from({ length: 65 }, () => [0, 0])), json([{ name: 'features', datatype: 'FP32', shape: [65, 2], data: new Array(130).fill(0) }])],
      ['too few typed elements', { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2], contents: { fp32_contents: [1, 2, 3] } }] },
        json([{ name: 'features', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }])],
      ['no inputs', { model_name: 'seed-classifier', inputs: [] }, json([])],
      ['a huge shape', { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2 ** 40], contents: { fp32_contents: [1, 2] } }] },
        json([{ name: 'features', datatype: 'FP32', shape: [1, 2 ** 40], data: [1, 2] }])],
    ];
    it.each(cases)('%s → INVALID_ARGUMENT with the worker\'s own words', async (_, request, body) => {
      const http = await postJson(worker.app, '/v2/models/seed-classifier/infer', body);
      expect(http.status).toBe(400);
      const error = await failure(served.client.modelInfer(request));
      expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(error.details).toBe(((await http.json()) as { error: string }).error);
    });

    it('refuses what the transport itself cannot read with INVALID_ARGUMENT and a precise message', async () => {
      const cases: Array<[ModelInferRequest, string]> = [
        [classify([[1, 2]], { raw_input_contents: [Buffer.alloc(6)] }), "input 'features': raw contents hold 6 bytes, shape and FP32 need 2 × 4 = 8"],
        [classify([[1, 2]], { raw_input_contents: [fp32([[1, 2]]), fp32([[1, 2]])] }), 'raw_input_contents has 2 entries for 1 inputs; give one per input or none'],
        [{ model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], contents: { fp64_contents: [1, 2] } }] },
          "input 'features': FP32 elements belong in contents.fp32_contents, got contents.fp64_contents"],
        [{ model_name: '', inputs: [] }, 'model name is required'],
      ];
      for (const [request, message] of cases) {
        const error = await failure(served.client.modelInfer(request));
        expect(error.code).toBe(GrpcStatus.INVALID_ARGUMENT);
        expect(error.details).toBe(message);
      }
    });

    it('answers arbitrary requests with a result or a client-error code, never INTERNAL or UNKNOWN (property)', async () => {
      const datatype = fc.constantFrom(...DATATYPES, 'FLOAT', '');
      const input = fc.record({
        name: fc.constantFrom('features', 'in_fp32', 'in_bytes', 'x', ''),
        datatype,
        shape: fc.array(fc.oneof(fc.integer({ min: -2, max: 70 }), fc.constant('99999999999999999999')), { maxLength: 3 }),
        contents: fc.option(fc.record({ fp32_contents: fc.array(fc.float(), { maxLength: 6 }), int_contents: fc.array(fc.integer(), { maxLength: 3 }) }, { requiredKeys: [] }), { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(served, echoServed), fc.array(input, { maxLength: 3 }), fc.option(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 3 }), { nil: undefined }),
          async (target, inputs, raw) => {
            const model = target === served ? 'seed-classifier' : 'typed-echo';
            const result = await target.client
              .modelInfer({ model_name: model, inputs, ...(raw ? { raw_input_contents: raw } : {}) })
              .then(() => GrpcStatus.OK, (error: ServiceError) => error.code);
            expect([GrpcStatus.OK, GrpcStatus.INVALID_ARGUMENT, GrpcStatus.NOT_FOUND]).toContain(result);
          },
        ),
        { numRuns: 80 },
      );
    });

    it('answers an unknown model or version with NOT_FOUND and the HTTP message', async () => {
      const error = await failure(served.client.modelInfer(classify([[1, 2]], { model_name: 'other' })));
      expect(error.code).toBe(GrpcStatus.NOT_FOUND);
      expect(error.details).toBe("unknown model 'other'; this worker serves 'seed-classifier'");
      const version = await failure(served.client.modelInfer(classify([[1, 2]], { model_version: '7' })));
      expect(version.code).toBe(GrpcStatus.NOT_FOUND);
      expect(version.details).toBe("model 'seed-classifier' has no version '7'; available: 1, 2");
    });

    it('answers a body over the worker limit with RESOURCE_EXHAUSTED, as HTTP answers 413', async () => {
      const rows = Array.from({ length: 64 }, () => [0.123456789, 0.987654321]);
      const big = classify(rows, { parameters: { pad: { string_param: 'x'.repeat(70 * 1024) } } });
      const error = await failure(served.client.modelInfer(big));
      expect(error.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(error.details).toBe(`request body exceeds ${64 * 1024} bytes`);
    });
  });
});
