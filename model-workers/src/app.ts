/**
 * The model worker as a Web-standard fetch handler (Hono): the Open
 * Inference Protocol v2 endpoints, the v1 `:predict` form, health and
 * `/metrics`. Node-specific concerns live in `server.ts`.
 */
import type { Logger } from '@switchyard/observability/logger';
import { PROMETHEUS_CONTENT_TYPE, type MetricsRegistry } from '@switchyard/observability/metrics';
import { serverSpan } from '@switchyard/observability/tracing';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { ServiceError } from './http/service-error.ts';
import type { WorkerMetrics } from './metrics/worker-metrics.ts';
import type { ModelHost } from './model-host.ts';
import { parseInferRequest } from './protocol/infer-request.ts';
import { encodeInferResponse, type ResponseTensor } from './protocol/infer-response.ts';
import { encodePredictions, predictToInferBody } from './protocol/predict-v1.ts';
import type { ModelVersion } from './repository/load-model.ts';

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

/** A fresh object per response: the Node adapter may add to the headers it is given. */
const jsonHeaders = (): Record<string, string> => ({ 'content-type': 'application/json' });
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export function createWorkerApp(options: WorkerAppOptions): Hono {
  const { host, logger, metrics, workerMetrics, maxBodyBytes, serverVersion } = options;
  // Every element takes at least two bytes of JSON ("0,"), which bounds any tensor a body can fill.
  const limits = { maxElements: Math.max(1, Math.floor(maxBodyBytes / 2)) };
  const app = new Hono();

  app.use(serverSpan({ tracerName: 'switchyard-model-worker' }));

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

  async function readJson(c: Context): Promise<unknown> {
    const type = c.req.header('content-type');
    if (type !== undefined && !JSON_TYPE.test(type)) throw new ServiceError(415, `content-type must be application/json, got ${type}`);
    try {
      return await c.req.json();
    } catch (error) {
      if (error instanceof HTTPException) throw error;
      throw new ServiceError(400, `malformed JSON body: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async function infer(version: ModelVersion, body: unknown): Promise<{ id?: string; outputs: ResponseTensor[] }> {
    const request = parseInferRequest(body, version.signature, limits);
    const results = await version.batcher.submit(request);
    const outputs: ResponseTensor[] = [];
    for (const spec of version.signature.outputs) {
      const result = results.get(spec.name);
      if (result) outputs.push({ name: spec.name, datatype: spec.datatype, shape: result.shape, data: result.data });
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
      const version = c.get('modelVersion')?.version;
      if (version !== undefined) workerMetrics.request(String(version), status, seconds);
      else workerMetrics.unresolved(status, seconds); // not a loaded version: labels say `unknown`, never the path's names
      const line = { request_id: c.req.header('x-request-id'), model: host.modelName, version, status, duration_ms: Math.round(seconds * 1e6) / 1e3 };
      if (status >= 500) logger.error(line, 'inference failed');
      else if (status >= 400) logger.info(line, 'inference rejected');
      else logger.info(line, 'inference served');
    }
  };

  const limitBody = bodyLimit({
    maxSize: maxBodyBytes,
    onError: (c) => c.json({ error: `request body exceeds ${maxBodyBytes} bytes` }, 413),
  });

  app.get('/v2', (c) => c.json({ name: 'switchyard-model-worker', version: serverVersion, extensions: [] }));
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
  app.get('/v2/models/:model', metadata);
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
    const { id, outputs } = await infer(version, await readJson(c));
    const body = encodeInferResponse({ modelName: host.modelName, modelVersion: String(version.version), ...(id === undefined ? {} : { id }), outputs });
    return c.body(body, 200, jsonHeaders());
  };
  app.post('/v2/models/:model/infer', inferenceAccounting, limitBody, inferHandler);
  app.post('/v2/models/:model/versions/:version/infer', inferenceAccounting, limitBody, inferHandler);

  const predictHandler = async (c: Context) => {
    const target = c.req.param('target') ?? '';
    const match = /^([^/]+?)(?:\/versions\/([^/]+))?:predict$/.exec(target);
    if (!match) throw new ServiceError(404, `no route for ${c.req.method} ${c.req.path}`);
    const version = resolveVersion(c, match[1] ?? '', match[2]);
    const { outputs } = await infer(version, predictToInferBody(await readJson(c), version.signature));
    return c.body(encodePredictions(outputs, version.signature.maxBatchSize > 0), 200, jsonHeaders());
  };
  app.post('/v1/models/:target{.+:predict}', inferenceAccounting, limitBody, predictHandler);

  app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }));

  return app;
}
