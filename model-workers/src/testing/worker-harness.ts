/**
 * Builds a worker in-process through its composition root, for tests that
 * call it through `app.request()`; logs are captured in memory.
 */
import { createLogger, type Logger } from '@switchyard/observability/logger';
import type { MetricsRegistry } from '@switchyard/observability/metrics';
import type { Hono } from 'hono';
import { createWorker } from '../create-worker.ts';
import type { ModelHost } from '../model-host.ts';

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

/** A loaded worker built by the production composition root (`createWorker`), logs captured. */
export async function startInProcessWorker(options: { repository: string; model: string; maxBodyBytes?: number }): Promise<InProcessWorker> {
  const logs = captureLogs();
  const worker = createWorker({ ...options, logger: logs.logger, serviceVersion: 'test', maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024 });
  await worker.load();
  return { app: worker.app, host: worker.host, metrics: worker.metrics, logs, close: () => worker.close() };
}

/** POSTs JSON to the app. */
export function postJson(app: Hono, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }));
}
