/**
 * The model worker as a Web-standard fetch handler (Hono): the Open
 * Inference Protocol v2 endpoints, the v1 `:predict` form, health and
 * `/metrics`. Node-specific concerns live in `server.ts`.
 */
import { headerOf } from '@switchyard/observability/runtime-bindings';
import type { Logger } from '@switchyard/observability/logger';
import { PROMETHEUS_CONTENT_TYPE, type MetricsRegistry } from '@switchyard/observability/metrics';
import { serverSpan } from '@switchyard/observability/tracing';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { compress } from 'hono/compress';
import { HTTPException } from 'hono/http-exception';
import { COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/utils/compress';
import { readRequestBody } from './http/read-request-body.ts';
import { badRequest, ServiceError } from './http/service-error.ts';
import type { WorkerMetrics } from './metrics/worker-metrics.ts';
import type { ModelHost } from './model-host.ts';
import { HEADER_LENGTH_HEADER, splitInferBody } from './protocol/binary-body.ts';
import { classify } from './protocol/classification.ts';
import { parseInferRequest } from './protocol/infer-request.ts';
import { encodeInferResponse, type ResponseTensor } from './protocol/infer-response.ts';
import { isRecord } from './protocol/json-shape.ts';
import { encodePredictions, predictToInferBody } from './protocol/predict-v1.ts';
import type { ModelVersion } from './repository/load-model.ts';
import { tritonModelConfig } from './repository/triton-config.ts';

/** The Triton protocol extensions this worker serves, as `GET /v2` lists them. */
export const SUPPORTED_EXTENSIONS = ['binary_tensor_data', 'classification', 'model_configuration', 'statistics', 'model_repository'] as const;

export interface WorkerAppOptions {
  host: ModelHost;
  logger: Logger;
  metrics: MetricsRegistry;
  workerMetrics: WorkerMetrics;
  /** Largest request body accepted, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Reported by `GET /v2`. */
  serverVersion: string;
}

declare module 'hono' {
  interface ContextVariableMap {
    modelVersion: ModelVersion;
  }
}

const encoder = new TextEncoder();
const COMPRESS_THRESHOLD_BYTES = 1024;

/**
 * An inference answer. For a client that accepts a compressed answer it
 * carries its length, so that `compress` leaves one under its threshold
 * as it is: deflating a few hundred bytes costs both sides more
 * time than sending them.
 */
function answer(c: Context, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>): Response {
  if (headerOf(c, 'accept-encoding') === undefined) return c.body(body, 200, headers);
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  headers['content-length'] = String(bytes.byteLength);
  return c.body(bytes, 200, headers);
}

/** A fresh object per response: the Node adapter may add to the headers it is given. */
const jsonHeaders = (): Record<string, string> => ({ 'content-type': 'application/json' });
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function createWorkerApp(options: WorkerAppOptions): Hono {
  const { host, logger, metrics, workerMetrics, maxBodyBytes, serverVersion } = options;
  // Every element takes at least two bytes of JSON ("0,"), which bounds any tensor a body can fill.
  const limits = { maxElements: Math.max(1, Math.floor(maxBodyBytes / 2)) };
  const app = new Hono();

  app.use(serverSpan({ tracerName: 'switchyard-model-worker' }));
  // Responses are compressed only for clients that ask; JSON and binary tensor bodies both qualify,
  // inference answers from 1 KiB up.
  const compressor = compress({ threshold: COMPRESS_THRESHOLD_BYTES, contentTypeFilter: (type) => COMPRESSIBLE_CONTENT_TYPE_REGEX.test(type) || type.startsWith('application/octet-stream') });
  app.use(function compressResponses(c, next) {
    return headerOf(c, 'accept-encoding') ? compressor(c, next) : next();
  });

  app.onError(function renderError(error, c) {
    if (error instanceof ServiceError) return c.json({ error: error.message }, error.status, error.headers);
    if (error instanceof HTTPException) return c.json({ error: error.message || 'request failed' }, error.status);
    logger.error({ err: error, path: c.req.path }, 'unhandled error');
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  function resolveVersion(c: Context, modelName: string, versionText: string | undefined): ModelVersion {
    if (modelName !== host.modelName) throw new ServiceError(404, `unknown model '${modelName}'; this worker serves '${host.modelName}'`);
    const model = host.model;
    if (!model) throw new ServiceError(503, `model '${modelName}' is still loading`, { 'Retry-After': '1' });
    let version = model.latest;
    if (versionText !== undefined) {
      const found = /^[1-9]\d{0,8}$/.test(versionText) ? model.versions.get(Number(versionText)) : undefined;
      if (!found) {
        throw new ServiceError(404, `model '${modelName}' has no version '${versionText}'; available: ${[...model.versions.keys()].join(', ')}`);
      }
      version = found;
    }
    c.set('modelVersion', version);
    return version;
  }

  /** The body of an infer call: JSON, or a JSON header plus binary tensor data (Inference-Header-Content-Length). */
  async function readInferBody(c: Context): Promise<{ json: unknown; binary?: Uint8Array }> {
    const headerLength = headerOf(c, HEADER_LENGTH_HEADER);
    if (headerLength === undefined) checkJsonType(c);
    return splitInferBody(await readRequestBody(c, maxBodyBytes), headerLength);
  }

  function checkJsonType(c: Context): void {
    const type = headerOf(c, 'content-type');
    if (type !== undefined && !JSON_TYPE.test(type)) {
      throw new ServiceError(415, `content-type must be application/json, or send binary tensor data with the Inference-Header-Content-Length header; got ${type}`);
    }
  }

  async function readJson(c: Context): Promise<unknown> {
    checkJsonType(c);
    return splitInferBody(await readRequestBody(c, maxBodyBytes), undefined).json;
  }

  async function infer(version: ModelVersion, body: unknown, binary?: Uint8Array): Promise<{ id?: string; outputs: ResponseTensor[] }> {
    const request = parseInferRequest(body, version.signature, limits, binary);
    const results = await version.batcher.submit(request);
    const outputs: ResponseTensor[] = [];
    for (const spec of version.signature.outputs) {
      const result = results.get(spec.name);
      if (!result) continue;
      const options = request.outputOptions?.get(spec.name);
      let tensor: ResponseTensor = { name: spec.name, datatype: spec.datatype, shape: result.shape, data: result.data, ...(options?.binary ? { binary: true } : {}) };
      if (options && options.classCount > 0) {
        tensor = classify(tensor, options.classCount, host.model?.labels.get(spec.name), version.signature.maxBatchSize > 0);
      }
      outputs.push(tensor);
    }
    return { ...(request.id === undefined ? {} : { id: request.id }), outputs };
  }

  /** Counts, times and logs every inference request, and holds shutdown until it ends. */
  const inferenceAccounting = async function inferenceAccounting(c: Context, next: () => Promise<void>): Promise<void> {
    const done = host.track();
    const started = performance.now();
    try {
      await next();
    } finally {
      done();
      const seconds = (performance.now() - started) / 1000;
      const status = c.res.status;
      const resolved = c.get('modelVersion');
      const version = resolved?.version;
      if (resolved) {
        workerMetrics.request(String(resolved.version), status, seconds);
        if (status === 200) resolved.statistics.requestSucceeded(seconds);
        else resolved.statistics.requestFailed(seconds);
      } else workerMetrics.unresolved(status, seconds); // not a loaded version: labels say `unknown`, never the path's names
      const line = { request_id: headerOf(c, 'x-request-id'), model: host.modelName, version, status, duration_ms: Math.round(seconds * 1e6) / 1e3 };
      if (status >= 500) logger.error(line, 'inference failed');
      else if (status >= 400) logger.info(line, 'inference rejected');
      else logger.info(line, 'inference served');
    }
  };

  /** A declared length over the limit is refused before anything is read; `readRequestBody` enforces it on the bytes themselves. */
  const limitBody: MiddlewareHandler = async function limitBody(c, next) {
    const declared = headerOf(c, 'content-length');
    if (declared !== undefined && Number(declared) > maxBodyBytes) throw new ServiceError(413, `request body exceeds ${maxBodyBytes} bytes`);
    await next();
  };

  app.get('/v2', (c) => c.json({ name: 'switchyard-model-worker', version: serverVersion, extensions: SUPPORTED_EXTENSIONS }));
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => (host.phase === 'ready' ? c.json({ ready: true }) : c.json({ ready: false, phase: host.phase }, 503)));

  /** Model metadata; `versions` lists every version unless one was named. */
  const metadata = (c: Context) => {
    const named = c.req.param('version');
    const v = resolveVersion(c, c.req.param('model') ?? '', named);
    return c.json({
      name: host.modelName,
      versions: named === undefined ? [...(host.model?.versions.keys() ?? [])].map(String) : [String(v.version)],
      platform: 'onnxruntime_onnx',
      inputs: v.signature.inputs,
      outputs: v.signature.outputs,
      parameters: { max_batch_size: v.signature.maxBatchSize, execution_provider: v.provider },
    });
  };
  /** Triton's statistics extension: every loaded version, or the one named. */
  const statistics = (c: Context) => {
    const named = c.req.param('version');
    const v = resolveVersion(c, c.req.param('model') ?? '', named);
    const versions = named === undefined ? [...(host.model?.versions.values() ?? [])] : [v];
    return c.json({ model_stats: versions.map((mv) => mv.statistics.toJSON(host.modelName, String(mv.version))) });
  };
  /** `GET /v2/models/stats`: every model's statistics (here, this worker's one model). */
  const allStatistics = (c: Context) => {
    const model = host.model;
    if (!model) throw new ServiceError(503, `model '${host.modelName}' is still loading`, { 'Retry-After': '1' });
    return c.json({ model_stats: [...model.versions.values()].map((mv) => mv.statistics.toJSON(host.modelName, String(mv.version))) });
  };
  app.get('/v2/models/:model/stats', statistics);
  app.get('/v2/models/:model/versions/:version/stats', statistics);

  /** Triton's model configuration extension. */
  const modelConfig = (c: Context) => {
    const v = resolveVersion(c, c.req.param('model') ?? '', c.req.param('version'));
    return c.json(tritonModelConfig(host.model as NonNullable<typeof host.model>, v));
  };
  app.get('/v2/models/:model/config', modelConfig);
  app.get('/v2/models/:model/versions/:version/config', modelConfig);

  /** Triton's repository index (read-only: this worker serves one model, loaded at start); a repository name changes nothing, there is one. */
  const repositoryIndex = async (c: Context) => {
    const bytes = await readRequestBody(c, maxBodyBytes);
    const body = bytes.byteLength === 0 ? {} : splitInferBody(bytes, undefined).json;
    if (!isRecord(body)) throw badRequest('repository index body must be a JSON object, e.g. {"ready": true}');
    if (body.ready !== undefined && typeof body.ready !== 'boolean') throw badRequest('"ready" must be true or false');
    const model = host.model;
    const state = host.phase === 'ready' ? 'READY' : host.phase === 'loading' ? 'LOADING' : 'UNAVAILABLE';
    const entries = model
      ? [...model.versions.keys()].map((version) => ({ name: host.modelName, version: String(version), state, reason: '' }))
      : [{ name: host.modelName, version: '', state, reason: 'loading' }];
    return c.json(body.ready === true ? entries.filter((e) => e.state === 'READY') : entries);
  };
  // One route for the repository extension's paths: a named repository's index beside the model
  // control paths would force Hono's slower TrieRouter.
  app.post('/v2/repository/:path{.+}', limitBody, (c) => {
    const parts = (c.req.param('path') ?? '').split('/');
    if (parts.at(-1) === 'index' && parts.length <= 2) return repositoryIndex(c);
    const [scope, model, action] = parts;
    if (parts.length === 3 && scope === 'models' && (action === 'load' || action === 'unload')) {
      throw badRequest(`model control is not supported: this worker's repository is read-only (${action} of '${model}' refused); models are loaded at start`);
    }
    throw new ServiceError(404, `no route for ${c.req.method} ${c.req.path}`);
  });

  // `/v2/models/stats` is served here rather than as a static route beside `/v2/models/:model`:
  // that pair would make Hono fall back from its RegExpRouter to the slower TrieRouter for every request.
  app.get('/v2/models/:model', (c) => (c.req.param('model') === 'stats' ? allStatistics(c) : metadata(c)));
  app.get('/v2/models/:model/versions/:version', metadata);
  const modelReady = (c: Context) => {
    const ready = host.phase === 'ready';
    resolveVersion(c, c.req.param('model') ?? '', c.req.param('version'));
    return c.json({ name: host.modelName, ready }, ready ? 200 : 503);
  };
  app.get('/v2/models/:model/ready', modelReady);
  app.get('/v2/models/:model/versions/:version/ready', modelReady);

  const inferHandler = async (c: Context) => {
    const version = resolveVersion(c, c.req.param('model') ?? '', c.req.param('version'));
    const { json, binary } = await readInferBody(c);
    const { id, outputs } = await infer(version, json, binary);
    const { body, headerLength } = encodeInferResponse({ modelName: host.modelName, modelVersion: String(version.version), ...(id === undefined ? {} : { id }), outputs });
    if (headerLength === undefined) return answer(c, body, jsonHeaders());
    return answer(c, body, { 'content-type': 'application/octet-stream', [HEADER_LENGTH_HEADER]: String(headerLength) });
  };
  app.post('/v2/models/:model/infer', inferenceAccounting, limitBody, inferHandler);
  app.post('/v2/models/:model/versions/:version/infer', inferenceAccounting, limitBody, inferHandler);

  const predictHandler = async (c: Context) => {
    const target = c.req.param('target') ?? '';
    const match = /^([^/]+?)(?:\/versions\/([^/]+))?:predict$/.exec(target);
    if (!match) throw new ServiceError(404, `no route for ${c.req.method} ${c.req.path}`);
    const version = resolveVersion(c, match[1] ?? '', match[2]);
    const { outputs } = await infer(version, predictToInferBody(await readJson(c), version.signature));
    return answer(c, encodePredictions(outputs, version.signature.maxBatchSize > 0), jsonHeaders());
  };
  app.post('/v1/models/:target{.+:predict}', inferenceAccounting, limitBody, predictHandler);

  app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }));

  return app;
}
