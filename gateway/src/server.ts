#!/usr/bin/env node
/**
 * Node entry of the gateway: reads the environment, starts telemetry, loads
 * the fleet config, builds the gateway (`createGateway`), listens on the
 * request and admin ports, reloads on SIGHUP and drains on SIGTERM.
 */
import { startTelemetry } from '@switchyard/observability/telemetry';
import { readGatewayEnv, type GatewayEnv } from './config/gateway-env.ts';

const SERVICE_VERSION = '0.1.0';

let env: GatewayEnv;
try {
  env = readGatewayEnv(process.env);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
// Telemetry starts before the modules it instruments are loaded.
const telemetry = startTelemetry({ serviceName: 'switchyard-gateway', serviceVersion: SERVICE_VERSION });
const { createLogger } = await import('@switchyard/observability/logger');
const { installShutdown, serveFetch } = await import('@switchyard/observability/node-service');
const { loadFleetConfig } = await import('@switchyard/fleet-config/load');
const { completeConfig } = await import('./config/complete-config.ts');
const { createGateway } = await import('./create-gateway.ts');
const { createGatewayHttpServer } = await import('./http/client-error.ts');
const { startGatewayGrpc } = await import('./grpc-transport.ts');
const { withNodeBindings } = await import('@switchyard/observability/node-bindings');
const { randomUUID } = await import('node:crypto');
const { hostname } = await import('node:os');

const logger = createLogger({ service: 'switchyard-gateway', level: env.logLevel, bufferBytes: env.logBufferBytes });
const complete = completeConfig(env);
let config;
try {
  config = await complete(await loadFleetConfig(env.configPath));
} catch (error) {
  logger.fatal({ reason: (error as Error).message }, 'invalid fleet config');
  process.stderr.write(`switchyard-gateway: ${(error as Error).message}\n`);
  process.exit(1);
}

const gateway = await createGateway({
  config,
  replicaId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  logger,
  serviceVersion: SERVICE_VERSION,
  redisPrefix: env.redisPrefix,
  ...(env.redisUrl ? { redisUrl: env.redisUrl } : {}),
  reload: { path: env.configPath, complete },
  spanCounts: () => telemetry.spanCounts(),
  // Edge workers' spans go where the gateway's go, when it exports any.
  ...(telemetry.exporting && env.otlp ? { edgeTelemetry: env.otlp } : {}),
});
const host = env.host ?? config.gateway.host;
const adminHost = config.gateway.admin_host;
const [server, adminServer] = await Promise.all([
  serveFetch({ fetch: withNodeBindings(gateway.fetch), port: env.port ?? config.gateway.port, hostname: host, logger, listening: 'gateway listening', createServer: createGatewayHttpServer }),
  serveFetch({ fetch: gateway.admin.fetch, port: env.adminPort ?? config.gateway.admin_port, hostname: adminHost, logger, listening: 'admin API listening' }),
]);
// gRPC (inference.GRPCInferenceService): every call runs through the same pipeline as HTTP.
const grpcPort = env.grpcPort ?? config.gateway.grpc_port;
const grpc = grpcPort === undefined
  ? undefined
  : await startGatewayGrpc({ fetch: gateway.fetch, port: grpcPort, host, logger }).catch((error: unknown) => {
      logger.fatal({ err: error, port: grpcPort }, 'cannot listen (gRPC)');
      process.exit(1);
    });
if (grpc) logger.info({ port: grpc.port }, 'gateway gRPC listening');
await gateway.start();
process.on('SIGHUP', () => void gateway.reload('SIGHUP'));
installShutdown({
  logger,
  servers: [server, adminServer],
  timeoutMs: env.drainTimeoutMs,
  drain: async () => {
    const grpcClosed = grpc?.close(); // stops taking calls; the ones in flight finish
    await gateway.drain();
    await grpcClosed;
  },
  close: async () => {
    await gateway.close();
    await telemetry.shutdown();
  },
});
