/**
 * In-process fleets for gateway tests: real model workers served over real
 * HTTP sockets, and a gateway app built from a fleet config around them.
 */
import { createHash } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { captureLogs, startInProcessWorker, type InProcessWorker } from '@switchyard/model-worker/testing/worker-harness';
import type { Hono } from 'hono';
import { createGateway, type Gateway } from '../create-gateway.ts';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import type { HealthChecker } from '../upstream/health-checker.ts';
import type { VariantStats } from '../rollout/variant-stats.ts';

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
  /** `app.request(path, init)` as with a Hono app, and `app.fetch` for a server: the gateway's real request handler. */
  app: { request(path: string, init?: RequestInit): Promise<Response>; fetch: Gateway['fetch'] };
  gateway: Gateway;
  config: FleetConfig;
  health: HealthChecker;
  /** Per-variant upstream outcomes, as the rollout guards see them. */
  stats: VariantStats;
  logs: ReturnType<typeof captureLogs>;
  close(): Promise<void>;
}

/**
 * Builds a gateway from raw config (validated like a real file) through the
 * production composition root (`createGateway`: flags, OpenFeature routing,
 * stores, health), with in-process stores unless `redisUrl` is given.
 */
export async function buildTestGateway(raw: unknown, options: { redisUrl?: string; redisPrefix?: string } = {}): Promise<TestGateway> {
  const config = parseFleetConfig(raw, 'test config');
  const logs = captureLogs('gateway');
  const gateway = await createGateway({ config, logger: logs.logger, serviceVersion: 'test', ...options });
  await gateway.health.checkAll();
  return {
    app: { request: (path, init) => gateway.fetch(new Request(new URL(path, 'http://gateway.test'), init)), fetch: gateway.fetch },
    gateway,
    config,
    health: gateway.health,
    stats: gateway.stats,
    logs,
    close: () => gateway.close(),
  };
}
