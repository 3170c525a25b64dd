/**
 * The worker's composition root: builds a worker from its validated
 * settings — metrics, the model host, the HTTP app — and loads the model.
 * The Node entry (`server.ts`) and the tests both call it, so tests exercise
 * the wiring production runs. Nothing here touches sockets or signals.
 */
import type { Logger } from '@switchyard/observability/logger';
import { createMetricsRegistry, type MetricsRegistry } from '@switchyard/observability/metrics';
import type { Hono } from 'hono';
import { createWorkerApp } from './app.ts';
import { WorkerMetrics } from './metrics/worker-metrics.ts';
import { ModelHost } from './model-host.ts';
import { loadModel } from './repository/load-model.ts';

export interface WorkerSettings {
  model: string;
  repository: string;
  /** Versions to load; every version in the repository when undefined. */
  versions?: readonly number[];
  logger: Logger;
  serviceVersion: string;
  /** Default 16 MiB. */
  maxBodyBytes?: number;
  /** Lost-span counts from the telemetry SDK, exported as metrics. */
  spanCounts?: () => { dropped: number; failed: number };
}

export interface Worker {
  /** The HTTP app: live at once, ready once `load()` has resolved. */
  app: Hono;
  host: ModelHost;
  metrics: MetricsRegistry;
  /** Loads, checks and warms up the model, then turns ready. */
  load(): Promise<void>;
  /** Not ready any more; queued and in-flight requests finish; sessions close. */
  drain(): Promise<void>;
  /** Drains (if not yet) and releases metrics. */
  close(): Promise<void>;
}

export function createWorker(settings: WorkerSettings): Worker {
  const { model: modelName, repository, versions, logger, serviceVersion, maxBodyBytes = 16 * 1024 * 1024 } = settings;
  const metrics = createMetricsRegistry({ service: 'switchyard-model-worker', ...(settings.spanCounts ? { spanCounts: settings.spanCounts } : {}) });
  const workerMetrics = new WorkerMetrics(metrics.meter, metrics.fast, modelName);
  const host = new ModelHost(modelName);
  WorkerMetrics.observe(metrics.meter, () => {
    const model = host.model;
    if (!model) return undefined;
    return {
      model: model.name,
      versions: () => [...model.versions.values()].map((v) => ({ version: v.version, depth: v.batcher.depth, provider: v.provider })),
    };
  });
  const app = createWorkerApp({ host, logger, metrics, workerMetrics, maxBodyBytes, serverVersion: serviceVersion });
  let drained: Promise<void> | undefined;
  const drain = (): Promise<void> => (drained ??= host.drain());
  return {
    app,
    host,
    metrics,
    async load() {
      const model = await loadModel({
        repository,
        model: modelName,
        logger,
        ...(versions ? { versions: [...versions] } : {}),
        observerFor: (v) => workerMetrics.observerFor(v),
      });
      host.ready(model);
      logger.info({ model: model.name, versions: [...model.versions.keys()], latest: model.latest.version }, 'worker ready');
    },
    drain,
    async close() {
      await drain();
      await metrics.shutdown();
    },
  };
}
