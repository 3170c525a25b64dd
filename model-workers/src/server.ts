#!/usr/bin/env node
/**
 * Node entry of the model worker: telemetry first, then the HTTP server,
 * then the model (live at once, ready after load and warm-up). SIGTERM
 * drains: not ready, queued and in-flight requests finish, sessions close,
 * exit 0.
 */
import { startTelemetry } from '@switchyard/observability/telemetry';
import { readWorkerEnv, type WorkerEnv } from './config/worker-env.ts';

const SERVICE_VERSION = '0.1.0';

let env: WorkerEnv;
try {
  env = readWorkerEnv(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}

const telemetry = startTelemetry({
  serviceName: 'switchyard-model-worker',
  serviceVersion: SERVICE_VERSION,
  attributes: {
    'switchyard.model': env.model,
    ...(env.versions ? { 'switchyard.model_versions': env.versions.join(',') } : {}),
    ...(env.variant ? { 'switchyard.variant': env.variant } : {}),
    ...(env.pool ? { 'switchyard.pool': env.pool } : {}),
  },
});

const [{ serve }, { createLogger }, { createMetricsRegistry }, { createWorkerApp }, { ModelHost }, { loadModel }, { WorkerMetrics }] =
  await Promise.all([
    import('@hono/node-server'),
    import('@switchyard/observability/logger'),
    import('@switchyard/observability/metrics'),
    import('./app.ts'),
    import('./model-host.ts'),
    import('./repository/load-model.ts'),
    import('./metrics/worker-metrics.ts'),
  ]);

const logger = createLogger({ service: 'switchyard-model-worker', level: env.logLevel });
const metrics = createMetricsRegistry({ service: 'switchyard-model-worker', spanCounts: () => telemetry.spanCounts() });
const workerMetrics = new WorkerMetrics(metrics.meter, env.model);
const host = new ModelHost(env.model);
WorkerMetrics.observe(metrics.meter, () => {
  const model = host.model;
  if (!model) return undefined;
  return {
    model: model.name,
    versions: () => [...model.versions.values()].map((v) => ({ version: v.version, depth: v.batcher.depth, provider: v.provider })),
  };
});

const app = createWorkerApp({ host, logger, metrics, workerMetrics, maxBodyBytes: env.maxBodyBytes, serverVersion: SERVICE_VERSION });
const server = serve({ fetch: app.fetch, port: env.port, hostname: env.host }, (info) => {
  logger.info({ url: `http://${env.host}:${info.port}`, port: info.port }, 'worker listening');
});
server.on('error', (error) => {
  logger.fatal({ err: error }, 'cannot listen');
  process.exit(1);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining: finishing queued and in-flight requests');
  const forced = setTimeout(() => {
    logger.error({ timeout_ms: env.drainTimeoutMs }, 'drain timed out; exiting');
    process.exit(1);
  }, env.drainTimeoutMs);
  forced.unref();
  server.close();
  const idle = setInterval(() => (server as { closeIdleConnections?: () => void }).closeIdleConnections?.(), 100);
  await host.drain();
  clearInterval(idle);
  await metrics.shutdown();
  await telemetry.shutdown();
  logger.info('worker stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  const model = await loadModel({
    repository: env.repository,
    model: env.model,
    logger,
    ...(env.versions ? { versions: env.versions } : {}),
    observerFor: (v) => workerMetrics.observerFor(v),
  });
  host.ready(model);
  logger.info({ model: model.name, versions: [...model.versions.keys()], latest: model.latest.version }, 'worker ready');
} catch (error) {
  logger.fatal({ reason: (error as Error).message }, 'model failed to load');
  process.stderr.write(`switchyard-model-worker: ${(error as Error).message}\n`);
  process.exit(1);
}
