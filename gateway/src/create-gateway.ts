/**
 * The gateway's composition root: builds every long-lived part of a gateway
 * replica from its validated settings — Redis, rate-limit stores, the flag
 * store and its OpenFeature client, upstream pools and health checks,
 * rollout stats and controller, the admin API, config reload — and the
 * request app on top. The Node entry (`server.ts`) and the tests both call
 * it, so tests exercise the wiring production runs. Nothing here touches
 * sockets, signals or `process`.
 */
import { randomUUID } from 'node:crypto';
import { OpenFeature } from '@openfeature/server-sdk';
import type { EdgeTelemetry } from '@switchyard/fleet-config/edge-host';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import type { Logger } from '@switchyard/observability/logger';
import { createMetricsRegistry, type MetricsRegistry } from '@switchyard/observability/metrics';
import type { Hono } from 'hono';
import { connectRedis, subscriberFor } from './redis-client.ts';
import { createAdminApp } from './admin/admin-app.ts';
import { createGatewayApp, type GatewayApp, type GatewayRuntime } from './app.ts';
import { ConfigWatcher } from './config/config-watcher.ts';
import { EdgeWorkers } from './edge/edge-workers.ts';
import { EdgeMetrics } from './metrics/edge-metrics.ts';
import type { FlagStore } from './flags/flag-store.ts';
import { MemoryFlagStore } from './flags/memory-flag-store.ts';
import { SwitchyardFlagProvider } from './flags/openfeature-provider.ts';
import { RedisFlagStore } from './flags/redis-flag-store.ts';
import { seedFlagsAndReport } from './flags/seed-flags.ts';
import { GatewayMetrics } from './metrics/gateway-metrics.ts';
import type { RateLimitStore } from './plugins/rate-limit/gcra.ts';
import { MemoryRateLimitStore } from './plugins/rate-limit/memory-store.ts';
import { RedisRateLimitStore } from './plugins/rate-limit/redis-store.ts';
import { localLease, redisLease, type Lease } from './rollout/lease.ts';
import { RolloutController } from './rollout/rollout-controller.ts';
import { VariantStats } from './rollout/variant-stats.ts';
import { topologyUrls } from './routing/fleet-topology.ts';
import { flagResolver } from './routing/variant-resolver.ts';
import { HealthChecker } from './upstream/health-checker.ts';
import { reportUpstreamHealth } from './upstream/health-report.ts';
import { UpstreamRegistry } from './upstream/upstream-pool.ts';

export interface GatewaySettings {
  /** The validated fleet config, already completed (API-key file, dev key). */
  config: FleetConfig;
  logger: Logger;
  serviceVersion: string;
  /** Redis for flags, rate limits and the rollout lease; in-process stores without it (one replica only). */
  redisUrl?: string;
  /** Namespaces every Redis key. Default `switchyard:`. */
  redisPrefix?: string;
  /** Reload source: when set, the file is watched and `reload()` reads it again. */
  reload?: {
    path: string;
    /** Completes a freshly read config (adds keys from elsewhere); may throw to refuse it. */
    complete: (config: FleetConfig) => Promise<FleetConfig>;
  };
  /** Lost-span counts from the telemetry SDK, exported as metrics. */
  spanCounts?: () => { dropped: number; failed: number };
  /** Identifies this replica in the rollout lease and admin API. Default: random. */
  replicaId?: string;
  /** How long start-up waits for Redis before serving on the fallback. Default 3000 ms. */
  redisConnectTimeoutMs?: number;
  /** The Deno binary for edge workers. Default: the `deno` npm package's. */
  deno?: string;
  /** Where the edge workers' Deno processes export spans. Default: they do not. */
  edgeTelemetry?: EdgeTelemetry;
}

export interface Gateway {
  /** The request handler: each request runs on the app current when it arrived (a reload never cuts it off). */
  fetch: (request: Request, bindings?: unknown) => Promise<Response>;
  /** The admin API (its own port). */
  admin: Hono;
  config(): FleetConfig;
  readonly replicaId: string;
  readonly metrics: MetricsRegistry;
  readonly gatewayMetrics: GatewayMetrics;
  readonly registry: UpstreamRegistry;
  readonly health: HealthChecker;
  readonly flags: FlagStore;
  readonly stats: VariantStats;
  readonly edge: EdgeWorkers;
  /** Requests being handled right now. */
  readonly inflight: number;
  /** Starts health polling, config watching and the rollout controller. */
  start(): Promise<void>;
  /** Re-reads the config (needs `settings.reload`); resolves true when applied. */
  reload(reason: string): Promise<boolean>;
  /** Stops taking new work: readiness answers 503 and background loops stop. */
  drain(): Promise<void>;
  /** Releases everything (pools, flags, Redis, metrics). Call after the server has closed its connections. */
  close(): Promise<void>;
}

/** Builds a gateway replica. Throws only for what start-up must refuse. */
export async function createGateway(settings: GatewaySettings): Promise<Gateway> {
  const { logger, serviceVersion, redisPrefix = 'switchyard:' } = settings;
  const replicaId = settings.replicaId ?? `gateway-${randomUUID().slice(0, 8)}`;
  let config = settings.config;
  let draining = false;
  let inflight = 0;

  const metrics = createMetricsRegistry({ service: 'switchyard-gateway', ...(settings.spanCounts ? { spanCounts: settings.spanCounts } : {}) });
  const gatewayMetrics = new GatewayMetrics(metrics.meter, metrics.fast);
  const registry = new UpstreamRegistry({
    connectTimeoutMs: config.gateway.connect_timeout_ms,
    breakerFailures: config.gateway.circuit_breaker.failures,
    breakerCooldownMs: config.gateway.circuit_breaker.cooldown_ms,
    onBreakerChange: (url, state) => {
      gatewayMetrics.breakerChanged(url, state);
      if (state !== 'closed') logger.warn({ upstream: url, state }, 'circuit breaker changed');
      else logger.info({ upstream: url, state }, 'circuit breaker closed');
    },
    // Every health change, from the health checker or from a failed request, is reported once here.
    onHealthChange: reportUpstreamHealth(gatewayMetrics, logger),
  });

  const redis = settings.redisUrl ? await connectRedis(settings.redisUrl, logger, settings.redisConnectTimeoutMs ?? 3000, config.gateway.redis_command_timeout_ms) : undefined;
  const memoryStore = new MemoryRateLimitStore();
  const rateLimitStore: RateLimitStore = redis ? new RedisRateLimitStore(redis, redisPrefix) : memoryStore;

  let lastFlagError: string | undefined;
  // Flags: Redis (shared, pushed to every replica) or in-process; OpenFeature evaluates them.
  const flags: FlagStore = redis
    ? await RedisFlagStore.open({
        redis,
        subscriber: subscriberFor(redis),
        prefix: redisPrefix,
        onError: (error) => {
          // Logged once per distinct failure: a Redis outage repeats the same error on every reconnect attempt.
          const message = (error as Error).message;
          if (message !== lastFlagError) logger.warn({ error: message }, 'flag store error; serving the last known flags');
          lastFlagError = message;
        },
      })
    : new MemoryFlagStore();
  flags.onChange(({ model, rollout }) => {
    gatewayMetrics.flagChanged(model, rollout.version, rollout.state);
    logger.info({ model, version: rollout.version, by: rollout.updatedBy, weights: rollout.state.weights, kill: rollout.state.kill }, 'flags changed');
  });
  await seed(config);
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
  const lease: Lease = redis ? redisLease(redis, `${redisPrefix}rollout:lease`, replicaId, 5000) : localLease(replicaId);
  const controller = new RolloutController({
    store: flags, stats, lease, logger, tickMs: config.gateway.rollout_tick_ms,
    onDecision: (model, decision) => gatewayMetrics.rolloutDecision(model, decision),
  });

  // Edge workers: separate Deno processes, started before the first app uses them.
  const edgeMetrics = new EdgeMetrics(metrics.meter);
  const edge = await EdgeWorkers.open({
    logger,
    ...(settings.deno ? { deno: settings.deno } : {}),
    ...(settings.edgeTelemetry ? { telemetry: settings.edgeTelemetry } : {}),
    bindingPort: config.gateway.edge_binding_port,
    breaker: { failures: config.gateway.circuit_breaker.failures, cooldownMs: config.gateway.circuit_breaker.cooldown_ms },
    onRestart: (worker) => edgeMetrics.restarted(worker),
    onBreakerChange: (worker, state) => {
      edgeMetrics.breakerChanged(worker, state);
      logger.warn({ edge_worker: worker, state }, 'edge worker circuit breaker changed');
    },
  });
  try {
    await edge.retain(config);
  } catch (error) {
    await edge.close();
    throw error;
  }
  for (const name of Object.keys(config.edge_workers)) edgeMetrics.register(name);

  const runtime: GatewayRuntime = {
    edge,
    edgeObserver: edgeMetrics,
    registry,
    rateLimitStore,
    ...(redis ? { fallbackStore: memoryStore } : {}),
    logger,
    metrics,
    gatewayMetrics,
    serverVersion: serviceVersion,
    accepting: () => !draining,
    resolver: () => flagResolver(flagClient),
    stats,
    flagStatus: () => flags.status(),
  };
  let current: GatewayApp = createGatewayApp(config, runtime);

  const admin = createAdminApp({
    logger,
    edgeWorkers: () => edge.status(),
    config: () => config,
    store: flags,
    stats,
    leadership: async () => ({
      holder: await lease.holder().catch((error: unknown) => {
        logger.warn({ error: (error as Error).message }, 'cannot read the rollout lease holder');
        return undefined;
      }),
      self: replicaId,
    }),
  });

  const health = new HealthChecker({ upstreams: () => registry.all(), intervalMs: config.gateway.health_interval_ms });

  async function seed(next: FleetConfig): Promise<void> {
    await seedFlagsAndReport(flags, next, logger);
  }

  async function apply(next: FleetConfig): Promise<void> {
    // A module that does not start refuses the reload; the old workers keep serving.
    await edge.retain(next);
    for (const name of Object.keys(next.edge_workers)) edgeMetrics.register(name);
    const built = createGatewayApp(next, runtime);
    current = built;
    config = next;
    await seed(next);
    await registry.retain(topologyUrls(built.topology));
    await health.checkAll();
  }

  const watcher = settings.reload
    ? new ConfigWatcher({ path: settings.reload.path, logger, complete: settings.reload.complete, apply })
    : undefined;

  let closed: Promise<void> | undefined;
  return {
    async fetch(request, bindings) {
      inflight++;
      try {
        return await current.app.fetch(request, bindings);
      } finally {
        inflight--;
      }
    },
    admin,
    config: () => config,
    replicaId,
    metrics,
    gatewayMetrics,
    registry,
    health,
    flags,
    stats,
    edge,
    get inflight() {
      return inflight;
    },
    async start() {
      controller.start();
      await health.start();
      watcher?.start();
    },
    reload: (reason) => watcher?.reload(reason) ?? Promise.resolve(false),
    async drain() {
      draining = true;
      watcher?.stop();
      health.stop();
      await controller.stop();
    },
    close() {
      closed ??= (async () => {
        draining = true;
        watcher?.stop();
        health.stop();
        await controller.stop();
        await registry.close();
        await edge.close();
        await flags.close();
        redis?.disconnect();
        await metrics.shutdown();
      })();
      return closed;
    },
  };
}
