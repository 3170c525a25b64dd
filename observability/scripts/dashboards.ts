#!/usr/bin/env node
/**
 * Generates the Grafana dashboards in `observability/dashboards/` from
 * compact panel lists, so every dashboard shares layout, datasources and
 * the model variable. `npm run dashboards -w @switchyard/observability`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface Panel {
  title: string;
  exprs: Array<[expr: string, legend: string]>;
  unit?: string;
  type?: 'timeseries' | 'stat';
}

const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' };
const TEMPO = { type: 'tempo', uid: 'tempo' };

function panels(list: Panel[]): unknown[] {
  return list.map((p, i) => ({
    id: i + 1,
    type: p.type ?? 'timeseries',
    title: p.title,
    datasource: PROMETHEUS,
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
    targets: p.exprs.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), expr, legendFormat, datasource: PROMETHEUS })),
  }));
}

function traceSearch(id: number, y: number, service: string): unknown {
  return {
    id, type: 'table', title: `Traces (${service}) — search by x-request-id or trace id in Explore`, datasource: TEMPO,
    gridPos: { h: 9, w: 24, x: 0, y },
    targets: [{ refId: 'A', datasource: TEMPO, queryType: 'traceql', query: `{ resource.service.name = "${service}" }`, limit: 20 }],
  };
}

function dashboard(uid: string, title: string, list: Panel[], withModel = true, traces?: string): unknown {
  const body = panels(list);
  if (traces) body.push(traceSearch(list.length + 1, Math.ceil(list.length / 2) * 8, traces));
  return {
    uid, title, tags: ['switchyard'], schemaVersion: 39, version: 1, timezone: 'browser', refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: withModel
        ? [{ name: 'model', type: 'query', datasource: PROMETHEUS, query: 'label_values(switchyard_gateway_requests_total, model)', refresh: 2, includeAll: false }]
        : [],
    },
    panels: body,
  };
}

const q = (quantile: number, metric: string, by: string, filter = '') =>
  `histogram_quantile(${quantile}, sum by (le, ${by}) (rate(${metric}_bucket${filter}[5m])))`;

const DASHBOARDS: Record<string, unknown> = {
  'fleet-overview': dashboard('switchyard-fleet', 'Switchyard — fleet overview', [
    { title: 'Requests per second by model', exprs: [['sum by (model) (rate(switchyard_gateway_requests_total[1m]))', '{{model}}']], unit: 'reqps' },
    { title: 'Error rate (5xx) by model', exprs: [['sum by (model) (rate(switchyard_gateway_requests_total{status=~"5.."}[1m])) / sum by (model) (rate(switchyard_gateway_requests_total[1m]))', '{{model}}']], unit: 'percentunit' },
    { title: 'Gateway latency p50 / p99 by model', exprs: [[q(0.5, 'switchyard_gateway_request_duration_seconds', 'model'), 'p50 {{model}}'], [q(0.99, 'switchyard_gateway_request_duration_seconds', 'model'), 'p99 {{model}}']], unit: 's' },
    { title: 'Worker requests by status', exprs: [['sum by (model, status) (rate(switchyard_worker_requests_total[1m]))', '{{model}} {{status}}']], unit: 'reqps' },
    { title: 'Worker latency p99 by model and version', exprs: [[q(0.99, 'switchyard_worker_request_duration_seconds', 'model, version'), '{{model}} v{{version}}']], unit: 's' },
    { title: 'Rate-limited requests', exprs: [['sum by (policy) (rate(switchyard_gateway_rate_limit_decisions_total{outcome="limited"}[1m]))', '{{policy}}']], unit: 'reqps' },
  ], false, 'switchyard-gateway'),
  'ab-comparison': dashboard('switchyard-ab', 'Switchyard — A/B comparison', [
    { title: 'Traffic share by variant', exprs: [['sum by (variant) (rate(switchyard_gateway_requests_total{model="$model"}[1m])) / ignoring(variant) group_left sum(rate(switchyard_gateway_requests_total{model="$model"}[1m]))', '{{variant}}']], unit: 'percentunit' },
    { title: 'Success rate (non-5xx) by variant', exprs: [['1 - sum by (variant) (rate(switchyard_gateway_requests_total{model="$model", status=~"5.."}[5m])) / sum by (variant) (rate(switchyard_gateway_requests_total{model="$model"}[5m]))', '{{variant}}']], unit: 'percentunit' },
    { title: 'Latency p50 / p99 by variant', exprs: [[q(0.5, 'switchyard_gateway_request_duration_seconds', 'variant', '{model="$model"}'), 'p50 {{variant}}'], [q(0.99, 'switchyard_gateway_request_duration_seconds', 'variant', '{model="$model"}'), 'p99 {{variant}}']], unit: 's' },
    { title: 'Configured weight (flags)', exprs: [['switchyard_gateway_variant_weight{model="$model"}', '{{variant}}']], unit: 'percent' },
    { title: 'Rollout step and kill switch', exprs: [['max(switchyard_gateway_rollout_step{model="$model"})', 'step'], ['max(switchyard_gateway_kill_switch{model="$model"})', 'kill switch']] },
    { title: 'Rollout guards: success rate and p99 since the step began', exprs: [['switchyard_gateway_rollout_guard{model="$model", measure="success_rate"}', 'success {{variant}}'], ['switchyard_gateway_rollout_guard{model="$model", measure="p99_seconds"}', 'p99 {{variant}}']] },
    { title: 'Rollout decisions', exprs: [['sum by (action) (increase(switchyard_gateway_rollout_decisions_total{model="$model"}[5m]))', '{{action}}']] },
    { title: 'Flag evaluations by variant and reason', exprs: [['sum by (variant, reason) (rate(switchyard_gateway_flag_evaluations_total{model="$model"}[1m]))', '{{variant}} {{reason}}']], unit: 'reqps' },
    { title: 'Shadow agreement', exprs: [['sum by (outcome) (rate(switchyard_gateway_shadow_requests_total{model="$model"}[5m]))', '{{outcome}}']], unit: 'reqps' },
  ], true, 'switchyard-gateway'),
  'worker-internals': dashboard('switchyard-worker', 'Switchyard — worker internals', [
    { title: 'Average batch size (inferences ÷ executions)', exprs: [['sum by (version) (rate(switchyard_worker_inferences_total{model="$model"}[1m])) / sum by (version) (rate(switchyard_worker_executions_total{model="$model"}[1m]))', 'v{{version}}']] },
    { title: 'Batch size p50 / p99', exprs: [[q(0.5, 'switchyard_worker_batch_size', 'version', '{model="$model"}'), 'p50 v{{version}}'], [q(0.99, 'switchyard_worker_batch_size', 'version', '{model="$model"}'), 'p99 v{{version}}']] },
    { title: 'Queue wait p50 / p99', exprs: [[q(0.5, 'switchyard_worker_queue_wait_seconds', 'version', '{model="$model"}'), 'p50 v{{version}}'], [q(0.99, 'switchyard_worker_queue_wait_seconds', 'version', '{model="$model"}'), 'p99 v{{version}}']], unit: 's' },
    { title: 'Queue depth', exprs: [['sum by (version) (switchyard_worker_queue_depth{model="$model"})', 'v{{version}}']] },
    { title: 'Execution provider', exprs: [['switchyard_worker_execution_provider{model="$model"}', 'v{{version}} {{provider}}']], type: 'stat' },
    { title: 'Process CPU and event-loop delay', exprs: [['rate(process_cpu_seconds_total{job="switchyard-workers"}[1m])', 'cpu {{instance}}'], ['nodejs_eventloop_delay_seconds{job="switchyard-workers", quantile="0.99"}', 'loop p99 {{instance}}']] },
    { title: 'Process memory', exprs: [['process_resident_memory_bytes{job="switchyard-workers"}', 'rss {{instance}}'], ['nodejs_heap_used_bytes{job="switchyard-workers"}', 'heap {{instance}}']], unit: 'bytes' },
  ], true, 'switchyard-model-worker'),
  'gateway-internals': dashboard('switchyard-gateway', 'Switchyard — gateway internals', [
    { title: 'Rate-limit decisions by policy and outcome', exprs: [['sum by (policy, outcome) (rate(switchyard_gateway_rate_limit_decisions_total[1m]))', '{{policy}} {{outcome}}']], unit: 'reqps' },
    { title: 'Rate-limit store (Redis) healthy', exprs: [['min(switchyard_gateway_rate_limit_store_healthy)', 'healthy']], type: 'stat' },
    { title: 'Upstream attempts: ok, retry, timeout', exprs: [['sum by (model, outcome) (rate(switchyard_gateway_upstream_attempts_total[1m]))', '{{model}} {{outcome}}']], unit: 'reqps' },
    { title: 'Circuit breakers (0 closed, 1 half-open, 2 open)', exprs: [['max by (upstream) (switchyard_gateway_circuit_breaker_state)', '{{upstream}}']] },
    { title: 'Upstream health', exprs: [['min by (upstream) (switchyard_gateway_upstream_healthy)', '{{upstream}}']] },
    { title: 'Flag store connected, flag versions', exprs: [['min(switchyard_gateway_flags_connected)', 'connected'], ['max by (model) (switchyard_gateway_flag_version)', 'version {{model}}']] },
    { title: 'Process CPU and event-loop delay', exprs: [['rate(process_cpu_seconds_total{job="switchyard-gateway"}[1m])', 'cpu {{instance}}'], ['nodejs_eventloop_delay_seconds{job="switchyard-gateway", quantile="0.99"}', 'loop p99 {{instance}}']] },
  ], false, 'switchyard-gateway'),
};

for (const [name, body] of Object.entries(DASHBOARDS)) {
  const path = fileURLToPath(new URL(`../dashboards/${name}.json`, import.meta.url));
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(`wrote ${path}\n`);
}
