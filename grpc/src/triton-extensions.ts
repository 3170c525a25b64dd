/**
 * Triton's read-only extensions over gRPC: ModelStatistics and
 * RepositoryIndex as the REST calls of the statistics and model repository
 * extensions (`GET …/stats`, `POST /v2/repository/index`), and their JSON
 * answers back as the gRPC replies.
 */
import type { RestCall } from './rest-translation.ts';

export interface ModelStatisticsRequest {
  name: string;
  version: string;
}

export interface RepositoryIndexRequest {
  repository_name: string;
  ready: boolean;
}

interface Duration {
  count: number;
  ns: number;
}

const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {});
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.trunc(value) : 0);
const text = (value: unknown): string => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '');
const duration = (value: unknown): Duration => ({ count: count(record(value).count), ns: count(record(value).ns) });

export function modelStatisticsCall({ name, version }: ModelStatisticsRequest): RestCall {
  if (!name) return { method: 'GET', path: '/v2/models/stats' };
  const base = `/v2/models/${encodeURIComponent(name)}`;
  return { method: 'GET', path: `${version ? `${base}/versions/${encodeURIComponent(version)}` : base}/stats` };
}

const INFER_STATS = ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output', 'cache_hit', 'cache_miss'] as const;
const BATCH_STATS = ['compute_input', 'compute_infer', 'compute_output'] as const;

export function modelStatisticsReply(json: unknown) {
  const stats = record(json).model_stats;
  return {
    model_stats: (Array.isArray(stats) ? stats : []).map((entry) => {
      const m = record(entry);
      const inference = record(m.inference_stats);
      return {
        name: text(m.name),
        version: text(m.version),
        last_inference: count(m.last_inference),
        inference_count: count(m.inference_count),
        execution_count: count(m.execution_count),
        inference_stats: Object.fromEntries(INFER_STATS.map((k) => [k, duration(inference[k])])),
        batch_stats: (Array.isArray(m.batch_stats) ? m.batch_stats : []).map((b) => {
          const batch = record(b);
          return { batch_size: count(batch.batch_size), ...Object.fromEntries(BATCH_STATS.map((k) => [k, duration(batch[k])])) };
        }),
      };
    }),
  };
}

export function repositoryIndexCall({ repository_name, ready }: RepositoryIndexRequest): RestCall {
  const path = repository_name ? `/v2/repository/${encodeURIComponent(repository_name)}/index` : '/v2/repository/index';
  return { method: 'POST', path, body: JSON.stringify(ready ? { ready: true } : {}) };
}

export function repositoryIndexReply(json: unknown) {
  return {
    models: (Array.isArray(json) ? json : []).map((entry) => {
      const m = record(entry);
      return { name: text(m.name), version: text(m.version), state: text(m.state), reason: text(m.reason) };
    }),
  };
}
