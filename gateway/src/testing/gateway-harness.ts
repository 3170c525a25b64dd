/**
 * In-process fleets for gateway tests: real model workers served over real
 * HTTP sockets, and a gateway app built from a fleet config around them.
 */
import { createHash } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { createMetricsRegistry } from '@switchyard/observability/metrics';
import { captureLogs, startInProcessWorker, type InProcessWorker } from '@switchyard/model-worker/testing/worker-harness';
import type { Hono } from 'hono';
import { createGatewayApp, type GatewayRuntime } from '../app.ts';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { RateLimitStore } from '../plugins/rate-limit/gcra.ts';
import { MemoryRateLimitStore } from '../plugins/rate-limit/memory-store.ts';
import { HealthChecker } from '../upstream/health-checker.ts';
import { UpstreamRegistry } from '../upstream/upstream-pool.ts';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface ServedWorker {
  url: string;
  port: number;
  worker: InProcessWorker;
  /** Stops listening (connections are refused afterwards). */
  stop(): Promise<void>;
}

function listen(app: Hono, port = 0): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => resolve({ server, port: info.port }));
  });
}

/** A worker app for `model` (optionally one version) on a real socket. */
export async function serveWorker(repository: string, model: string): Promise<ServedWorker> {
  const worker = await startInProcessWorker({ repository, model });
  const { server, port } = await listen(worker.app);
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    worker,
    async stop() {
      if (stopped) return;
      stopped = true;
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker.close();
    },
  };
}

export interface TestGateway {
  app: Hono;
  config: FleetConfig;
  runtime: GatewayRuntime;
  health: HealthChecker;
  logs: ReturnType<typeof captureLogs>;
  close(): Promise<void>;
}

/** Builds a gateway app from raw config (validated like a real file) and checks upstream health once. */
export async function buildTestGateway(
  raw: unknown,
  options: { store?: RateLimitStore; fallback?: RateLimitStore; resolver?: GatewayRuntime['resolver'] } = {},
): Promise<TestGateway> {
  const config = parseFleetConfig(raw, 'test config');
  const logs = captureLogs('gateway');
  const metrics = createMetricsRegistry({ service: 'test-gateway' });
  const gatewayMetrics = new GatewayMetrics(metrics.meter);
  const registry = new UpstreamRegistry({
    connectTimeoutMs: config.gateway.connect_timeout_ms,
    breakerFailures: config.gateway.circuit_breaker.failures,
    breakerCooldownMs: config.gateway.circuit_breaker.cooldown_ms,
    onBreakerChange: (url, state) => gatewayMetrics.breakerChanged(url, state),
  });
  const runtime: GatewayRuntime = {
    registry,
    rateLimitStore: options.store ?? new MemoryRateLimitStore(),
    ...(options.fallback ? { fallbackStore: options.fallback } : {}),
    ...(options.resolver ? { resolver: options.resolver } : {}),
    logger: logs.logger,
    metrics,
    gatewayMetrics,
    serverVersion: 'test',
    accepting: () => true,
  };
  const { app } = createGatewayApp(config, runtime);
  const health = new HealthChecker({ upstreams: () => registry.all(), intervalMs: 60_000, onChange: (u, h) => gatewayMetrics.healthChanged(u, h) });
  await health.checkAll();
  return {
    app, config, runtime, health, logs,
    async close() {
      health.stop();
      await registry.close();
      await metrics.shutdown();
    },
  };
}

