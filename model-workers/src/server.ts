#!/usr/bin/env node
/**
 * Node entry of the model worker: reads the environment, starts telemetry,
 * builds the worker (`createWorker`), listens (live at once), loads the
 * model (ready after load and warm-up) and drains on SIGTERM: not ready,
 * queued and in-flight requests finish, sessions close, exit 0.
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

// Telemetry starts before the modules it instruments are loaded.
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
const { createLogger } = await import('@switchyard/observability/logger');
const { installShutdown, serveFetch } = await import('@switchyard/observability/node-service');
const { createWorker } = await import('./create-worker.ts');
const { withNodeBindings } = await import('@switchyard/observability/node-bindings');
const { startWorkerGrpc } = await import('./grpc-transport.ts');

const logger = createLogger({ service: 'switchyard-model-worker', level: env.logLevel, bufferBytes: env.logBufferBytes });
const worker = createWorker({
  model: env.model,
  repository: env.repository,
  ...(env.versions ? { versions: env.versions } : {}),
  logger,
  serviceVersion: SERVICE_VERSION,
  maxBodyBytes: env.maxBodyBytes,
  spanCounts: () => telemetry.spanCounts(),
});
// The Node bindings let the app read bodies from the socket stream without building a web Request.
const server = await serveFetch({ fetch: withNodeBindings(worker.app.fetch), port: env.port, hostname: env.host, logger, listening: 'worker listening' });
// gRPC (inference.GRPCInferenceService) runs every call through the same app.
const grpc = env.grpcPort === undefined
  ? undefined
  : await startWorkerGrpc({ fetch: worker.app.fetch, port: env.grpcPort, host: env.host, logger }).catch((error: unknown) => {
      logger.fatal({ err: error, port: env.grpcPort }, 'cannot listen (gRPC)');
      process.exit(1);
    });
if (grpc) logger.info({ port: grpc.port }, 'worker gRPC listening');
installShutdown({
  logger,
  servers: [server],
  timeoutMs: env.drainTimeoutMs,
  drain: async () => {
    const grpcClosed = grpc?.close(); // stops taking calls; the ones in flight finish with the drain
    await worker.drain();
    await grpcClosed;
  },
  close: async () => {
    await worker.close();
    await telemetry.shutdown();
  },
});

try {
  await worker.load();
} catch (error) {
  logger.fatal({ reason: (error as Error).message }, 'model failed to load');
  process.stderr.write(`switchyard-model-worker: ${(error as Error).message}\n`);
  process.exit(1);
}
