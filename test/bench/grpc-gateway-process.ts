#!/usr/bin/env node
/**
 * A gateway process for the gRPC benchmark: the gateway app built from a
 * fleet file (in-process rate-limit store, no flags), served over HTTP on
 * `PORT` and over gRPC on `GRPC_PORT` from one process, so both transports
 * are measured against the same pipeline, with the gRPC settings of the
 * gateway's entry (`startGatewayGrpc`).
 */
import { serve } from '@hono/node-server';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { createLogger } from '@switchyard/observability/logger';
import { createMetricsRegistry } from '@switchyard/observability/metrics';
import { createGatewayApp } from '../../gateway/src/app.ts';
import { startGatewayGrpc } from '../../gateway/src/grpc-transport.ts';
import { GatewayMetrics } from '../../gateway/src/metrics/gateway-metrics.ts';
import { MemoryRateLimitStore } from '../../gateway/src/plugins/rate-limit/memory-store.ts';
import { HealthChecker } from '../../gateway/src/upstream/health-checker.ts';
import { UpstreamRegistry } from '../../gateway/src/upstream/upstream-pool.ts';

const config = await loadFleetConfig(process.env.SWITCHYARD_CONFIG ?? 'switchyard.yaml');
const logger = createLogger({ service: 'switchyard-gateway', level: process.env.LOG_LEVEL ?? 'warn' });
const metrics = createMetricsRegistry({ service: 'switchyard-gateway' });
const gatewayMetrics = new GatewayMetrics(metrics.meter, metrics.fast);
const registry = new UpstreamRegistry({
  connectTimeoutMs: config.gateway.connect_timeout_ms,
  breakerFailures: config.gateway.circuit_breaker.failures,
  breakerCooldownMs: config.gateway.circuit_breaker.cooldown_ms,
});
const { app } = createGatewayApp(config, {
  registry, rateLimitStore: new MemoryRateLimitStore(), logger, metrics, gatewayMetrics, serverVersion: 'bench', accepting: () => true,
});
const health = new HealthChecker({ upstreams: () => registry.all(), intervalMs: config.gateway.health_interval_ms });
await health.start();

const host = process.env.HOST ?? '127.0.0.1';
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: host });
const grpc = await startGatewayGrpc({ fetch: app.fetch, port: Number(process.env.GRPC_PORT ?? 0), host, logger });
logger.warn({ grpc_port: grpc.port }, 'bench gateway listening');

process.on('SIGTERM', () => {
  health.stop();
  server.close();
  void grpc.close().then(() => registry.close()).then(() => process.exit(0));
});
