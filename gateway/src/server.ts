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
const { withApiKeysFile } = await import('./config/api-keys-file.ts');
const { loadFleetConfig } = await import('@switchyard/fleet-config/load');
const { GatewayMetrics } = await import('./metrics/gateway-metrics.ts');
const { MemoryRateLimitStore } = await import('./plugins/rate-limit/memory-store.ts');
const { RedisRateLimitStore } = await import('./plugins/rate-limit/redis-store.ts');
const { topologyUrls } = await import('./routing/fleet-topology.ts');
const { HealthChecker } = await import('./upstream/health-checker.ts');
const { OpenFeature } = await import('@openfeature/server-sdk');
const { createAdminApp } = await import('./admin/admin-app.ts');
const { MemoryFlagStore } = await import('./flags/memory-flag-store.ts');
const { RedisFlagStore } = await import('./flags/redis-flag-store.ts');
const { SwitchyardFlagProvider } = await import('./flags/openfeature-provider.ts');
const { seedFlags } = await import('./flags/seed-flags.ts');
const { localLease, redisLease } = await import('./rollout/lease.ts');
const { RolloutController } = await import('./rollout/rollout-controller.ts');
const { VariantStats } = await import('./rollout/variant-stats.ts');
const { flagResolver } = await import('./routing/variant-resolver.ts');
const { randomUUID } = await import('node:crypto');
const { hostname } = await import('node:os');
const { UpstreamRegistry } = await import('./upstream/upstream-pool.ts');

const logger = createLogger({ service: 'switchyard-gateway', level: env.logLevel });

let config;
try {
  config = withDevKey(await withApiKeysFile(await loadFleetConfig(env.configPath), env.apiKeysFile), env.devKeySha256);
} catch (error) {
  logger.fatal({ reason: (error as Error).message }, 'invalid fleet config');
  process.stderr.write(`switchyard-gateway: ${(error as Error).message}\n`);
  process.exit(1);
}

const metrics = createMetricsRegistry({ service: 'switchyard-gateway', spanCounts: () => telemetry.spanCounts() });
const gatewayMetrics = new GatewayMetrics(metrics.meter);
const registry = new UpstreamRegistry({
  connectTimeoutMs: config.gateway.connect_timeout_ms,
  breakerFailures: config.gateway.circuit_breaker.failures,
  breakerCooldownMs: config.gateway.circuit_breaker.cooldown_ms,
  onBreakerChange: (url, state) => {
    gatewayMetrics.breakerChanged(url, state);
    if (state !== 'closed') logger.warn({ upstream: url, state }, 'circuit breaker changed');
    else logger.info({ upstream: url, state }, 'circuit breaker closed');
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

// Flags: Redis (shared, pushed to every replica) or in-process; OpenFeature evaluates them.
const replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
const flags = redis
  ? await RedisFlagStore.open({
      redis,
      subscriber: redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null }),
      prefix: env.redisPrefix,
      onError: () => undefined,
    })
  : new MemoryFlagStore();
flags.onChange(({ model, rollout }) => {
  gatewayMetrics.flagChanged(model, rollout.version, rollout.state);
  logger.info({ model, version: rollout.version, by: rollout.updatedBy, weights: rollout.state.weights, kill: rollout.state.kill }, 'flags changed');
});
for (const model of await seedFlags(flags, config).catch((error: unknown) => {
  logger.warn({ error: (error as Error).message }, 'could not seed flags; routing uses what the store has');
  return [];
})) logger.info({ model }, 'flags seeded from switchyard.yaml');
gatewayMetrics.watchFlagStore(() => flags.status().connected);
for (const model of flags.models()) {
  const rollout = flags.get(model);
  if (rollout) gatewayMetrics.flagChanged(model, rollout.version, rollout.state);
}
const flagDomain = `switchyard-${replicaId}`;
await OpenFeature.setProviderAndWait(flagDomain, new SwitchyardFlagProvider(flags));
const flagClient = OpenFeature.getClient(flagDomain);
const stats = new VariantStats();
gatewayMetrics.watchRolloutGuards(() =>
  flags.models().flatMap((model) => {
    const state = flags.get(model)?.state;
    const plan = state?.plan;
    if (!state || !plan || plan.status !== 'running' || !state.candidate) return [];
    return [state.stable, state.candidate].map((variant) => ({ model, variant, ...stats.summary(model, variant, plan.step_started_at) }));
  }),
);
const lease = redis ? redisLease(redis, `${env.redisPrefix}rollout:lease`, replicaId, 5000) : localLease(replicaId);
const controller = new RolloutController({
  store: flags, stats, lease, logger, tickMs: config.gateway.rollout_tick_ms,
  onDecision: (model, decision) => gatewayMetrics.rolloutDecision(model, decision),
});
controller.start();

const runtime = {
  registry,
  rateLimitStore: redis ? new RedisRateLimitStore(redis, env.redisPrefix) : memoryStore,
  ...(redis ? { fallbackStore: memoryStore } : {}),
  logger,
  metrics,
  gatewayMetrics,
  serverVersion: SERVICE_VERSION,
  accepting: () => !draining,
  resolver: () => flagResolver(flagClient),
  stats,
  flagStatus: () => flags.status(),
};
let current = createGatewayApp(config, runtime);
let currentConfig = config;

const adminApp = createAdminApp({
  config: () => currentConfig,
  store: flags,
  stats,
  leadership: async () => ({ holder: await lease.holder().catch(() => undefined), self: replicaId }),
});
const adminServer = serve({ port: env.adminPort ?? config.gateway.admin_port, hostname: config.gateway.admin_host, fetch: adminApp.fetch }, (info) =>
  logger.info({ url: `http://${config.gateway.admin_host}:${info.port}`, port: info.port }, 'admin API listening'),
);
adminServer.on('error', (error) => {
  logger.fatal({ err: error }, 'cannot listen (admin API)');
  process.exit(1);
});

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
  complete: async (loaded) => withDevKey(await withApiKeysFile(loaded, env.apiKeysFile), env.devKeySha256),
  apply: async (withKey) => {
    const built = createGatewayApp(withKey, runtime);
    current = built;
    currentConfig = withKey;
    await seedFlags(flags, withKey).catch(() => []);
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
  await controller.stop();
  server.close();
  adminServer.close();
  while (inflight > 0) {
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  await registry.close();
  await flags.close();
  await OpenFeature.close();
  redis?.disconnect();
  await metrics.shutdown();
  await telemetry.shutdown();
  logger.info('gateway stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
