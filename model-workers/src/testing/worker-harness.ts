/**
 * Builds a worker app in-process around a loaded model, for tests that
 * call it through `app.request()`; logs are captured in memory.
 */
import { createLogger, type Logger } from '@switchyard/observability/logger';
import { createMetricsRegistry, type MetricsRegistry } from '@switchyard/observability/metrics';
import type { Hono } from 'hono';
import { createWorkerApp } from '../app.ts';
import { WorkerMetrics } from '../metrics/worker-metrics.ts';
import { ModelHost } from '../model-host.ts';
import { loadModel } from '../repository/load-model.ts';

export interface CapturedLogs {
  lines: Array<Record<string, unknown>>;
  logger: Logger;
}

export function captureLogs(service = 'test'): CapturedLogs {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service,
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { lines, logger };
}

export interface InProcessWorker {
  app: Hono;
  host: ModelHost;
  metrics: MetricsRegistry;
  logs: CapturedLogs;
  close(): Promise<void>;
}

export async function startInProcessWorker(options: { repository: string; model: string; maxBodyBytes?: number }): Promise<InProcessWorker> {
  const logs = captureLogs();
  const metrics = createMetricsRegistry({ service: 'test-worker' });
  const workerMetrics = new WorkerMetrics(metrics.meter, options.model);
  const host = new ModelHost(options.model);
  WorkerMetrics.observe(metrics.meter, () => {
    const model = host.model;
    return model && { model: model.name, versions: () => [...model.versions.values()].map((v) => ({ version: v.version, depth: v.batcher.depth, provider: v.provider })) };
  });
  const model = await loadModel({ ...options, logger: logs.logger, observerFor: (v) => workerMetrics.observerFor(v) });
  host.ready(model);
  const app = createWorkerApp({ host, logger: logs.logger, metrics, workerMetrics, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024, serverVersion: 'test' });
  return {
    app, host, metrics, logs,
    async close() {
      await host.drain();
      await metrics.shutdown();
    },
  };
}

/** POSTs JSON to the app. */
export function postJson(app: Hono, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }));
}
