#!/usr/bin/env node
/**
 * Node entry of the gateway: telemetry, config, Redis (when `REDIS_URL` is
 * set), upstream pools and health checks, the HTTP server, config reload on
 * SIGHUP or file change, and a graceful drain on SIGTERM.
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
const telemetry = startTelemetry({ serviceName: 'switchyard-gateway', serviceVersion: SERVICE_VERSION });

const { serve } = await import('@hono/node-server');
const { Redis } = await import('ioredis');
const { createLogger } = await import('@switchyard/observability/logger');
const { createMetricsRegistry } = await import('@switchyard/observability/metrics');
const { createGatewayApp } = await import('./app.ts');
const { ConfigWatcher } = await import('./config/config-watcher.ts');
const { withDevKey } = await import('./config/dev-key.ts');
const { loadFleetConfig } = await import('./config/load-fleet-config.ts');
const { GatewayMetrics } = await import('./metrics/gateway-metrics.ts');
const { MemoryRateLimitStore } = await import('./plugins/rate-limit/memory-store.ts');
const { RedisRateLimitStore } = await import('./plugins/rate-limit/redis-store.ts');
const { topologyUrls } = await import('./routing/fleet-topology.ts');
const { HealthChecker } = await import('./upstream/health-checker.ts');
const { UpstreamRegistry } = await import('./upstream/upstream-pool.ts');

const logger = createLogger({ service: 'switchyard-gateway', level: env.logLevel });

let config;
try {
  config = withDevKey(await loadFleetConfig(env.configPath), env.devKeySha256);
} catch (error) {
  logger.fatal({ reason: (error as Error).message }, 'invalid fleet config');
  process.stderr.write(`switchyard-gateway: ${(error as Error).message}\n`);
  process.exit(1);
}

const metrics = createMetricsRegistry({ service: 'switchyard-gateway' });
const gatewayMetrics = new GatewayMetrics(metrics.meter);
const registry = new UpstreamRegistry({
  connectTimeoutMs: config.gateway.connect_timeout_ms,
  breakerFailures: config.gateway.circuit_breaker.failures,
  breakerCooldownMs: config.gateway.circuit_breaker.cooldown_ms,
  onBreakerChange: (url, state) => {
    gatewayMetrics.breakerChanged(url, state);
    logger.warn({ upstream: url, state }, 'circuit breaker changed');
  },
});

const redis = env.redisUrl
  ? new Redis(env.redisUrl, {
      // Fail fast while Redis is away (the fallback limiter takes over); reconnect in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    })
  : undefined;
redis?.on('error', () => undefined); // reported through the rate limiter's store health
if (redis) {
  // Start with Redis connected when it is there; without it, start anyway on the fallback.
  const connected = await Promise.race([
    new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000).unref()),
  ]);
  if (!connected) logger.warn({}, 'Redis is not reachable yet; rate limits are per replica until it is');
}
const memoryStore = new MemoryRateLimitStore();
let draining = false;
let inflight = 0;

const runtime = {
  registry,
  rateLimitStore: redis ? new RedisRateLimitStore(redis, env.redisPrefix) : memoryStore,
  ...(redis ? { fallbackStore: memoryStore } : {}),
  logger,
  metrics,
  gatewayMetrics,
  serverVersion: SERVICE_VERSION,
  accepting: () => !draining,
};
let current = createGatewayApp(config, runtime);

const health = new HealthChecker({
  upstreams: () => registry.all(),
  intervalMs: config.gateway.health_interval_ms,
  onChange: (url, healthy) => {
    gatewayMetrics.healthChanged(url, healthy);
    logger.info({ upstream: url, healthy }, 'upstream health changed');
  },
});
await health.start();

const watcher = new ConfigWatcher({
  path: env.configPath,
  logger,
  apply: async (next) => {
    const built = createGatewayApp(withDevKey(next, env.devKeySha256), runtime);
    current = built;
    await registry.retain(topologyUrls(built.topology));
    await health.checkAll();
  },
});
watcher.start();
process.on('SIGHUP', () => void watcher.reload('SIGHUP'));

const port = env.port ?? config.gateway.port;
const host = env.host ?? config.gateway.host;
const server = serve(
  {
    port,
    hostname: host,
    fetch: async (request, bindings) => {
      inflight++;
      try {
        // Each request runs on the app current when it arrived; a reload never cuts it off.
        return await current.app.fetch(request, bindings);
      } finally {
        inflight--;
      }
    },
  },
  (info) => logger.info({ url: `http://${host}:${info.port}`, port: info.port, redis: Boolean(redis) }, 'gateway listening'),
);
server.on('error', (error) => {
  logger.fatal({ err: error }, 'cannot listen');
  process.exit(1);
});

async function shutdown(signal: string): Promise<void> {
  if (draining) return;
  draining = true;
  logger.info({ signal }, 'draining: finishing in-flight requests');
  setTimeout(() => process.exit(1), env.drainTimeoutMs).unref();
  watcher.stop();
  health.stop();
  server.close();
  while (inflight > 0) {
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  await registry.close();
  redis?.disconnect();
  await metrics.shutdown();
  await telemetry.shutdown();
  logger.info('gateway stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
