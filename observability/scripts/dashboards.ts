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

/** The model variable lists configured models only: the gateway starts these counters at zero for every model in the config. */
const MODEL_VARIABLE_QUERY = 'label_values(switchyard_gateway_variant_requests_total, model)';

function dashboard(uid: string, title: string, list: Panel[], withModel = true, traces?: string): unknown {
  const body = panels(list);
  if (traces) body.push(traceSearch(list.length + 1, Math.ceil(list.length / 2) * 8, traces));
  return {
    uid, title, tags: ['switchyard'], schemaVersion: 39, version: 1, timezone: 'browser', refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: withModel
        ? [{ name: 'model', type: 'query', datasource: PROMETHEUS, query: MODEL_VARIABLE_QUERY, definition: MODEL_VARIABLE_QUERY, refresh: 2, includeAll: false, sort: 1 }]
        : [],
    },
    panels: body,
  };
}

const q = (quantile: number, metric: string, by: string, filter = '', window = '5m') =>
  `histogram_quantile(${quantile}, sum by (le, ${by}) (rate(${metric}_bucket${filter}[${window}])))`;

const VARIANT_REQUESTS = 'switchyard_gateway_variant_requests_total';
const M = '{model="$model"}';

const processPanels = (job: string): Panel[] => [
  { title: 'Process CPU (cores)', exprs: [[`rate(process_cpu_seconds_total{job="${job}"}[1m])`, '{{instance}}']], unit: 'percentunit' },
  { title: 'Event-loop delay p99', exprs: [[q(0.99, 'nodejs_eventloop_delay_seconds', 'instance', `{job="${job}"}`, '1m'), '{{instance}}']], unit: 's' },
  { title: 'Process memory', exprs: [[`process_resident_memory_bytes{job="${job}"}`, 'rss {{instance}}'], [`nodejs_heap_used_bytes{job="${job}"}`, 'heap {{instance}}']], unit: 'bytes' },
  { title: 'Uptime', exprs: [[`time() - process_start_time_seconds{job="${job}"}`, '{{instance}}']], unit: 's' },
];

const DASHBOARDS: Record<string, unknown> = {
  'fleet-overview': dashboard('switchyard-fleet', 'Switchyard — fleet overview', [
    { title: 'Requests per second by model', exprs: [['sum by (model) (rate(switchyard_gateway_requests_total[1m]))', '{{model}}']], unit: 'reqps' },
    {
      // Variant outcomes start at zero for every configured model, so the ratio is 0 (not empty) while nothing fails.
      title: 'Error ratio (5xx) by model (routed inference)',
      exprs: [[`sum by (model) (rate(${VARIANT_REQUESTS}{outcome="server_error"}[5m])) / sum by (model) (rate(${VARIANT_REQUESTS}{outcome=~"success|server_error"}[5m]))`, '{{model}}']],
      unit: 'percentunit',
    },
    { title: 'Gateway latency p50 / p99 by model (routed requests)', exprs: [[q(0.5, 'switchyard_gateway_request_duration_seconds', 'model', '{variant!="none"}'), 'p50 {{model}}'], [q(0.99, 'switchyard_gateway_request_duration_seconds', 'model', '{variant!="none"}'), 'p99 {{model}}']], unit: 's' },
    { title: 'Targets up (1 up, 0 down)', exprs: [['up{job=~"switchyard-.*"}', '{{job}} {{instance}}']] },
    { title: 'Worker requests by status', exprs: [['sum by (model, status) (rate(switchyard_worker_requests_total[1m]))', '{{model}} {{status}}']], unit: 'reqps' },
    { title: 'Worker latency p99 by model and version (served)', exprs: [[q(0.99, 'switchyard_worker_request_duration_seconds', 'model, version', '{status="200"}'), '{{model}} v{{version}}']], unit: 's' },
    { title: 'Rate-limited requests', exprs: [['sum by (policy) (rate(switchyard_gateway_rate_limit_decisions_total{outcome="limited"}[1m]))', '{{policy}}']], unit: 'reqps' },
    { title: 'Replicas available per model (gateway\'s view)', exprs: [['min by (model) (sum without (variant) (switchyard_gateway_upstreams_available))', '{{model}}']] },
  ], false, 'switchyard-gateway'),
  'ab-comparison': dashboard('switchyard-ab', 'Switchyard — A/B comparison', [
    {
      title: 'Traffic share by variant (inference requests routed)',
      exprs: [[`sum by (variant) (rate(${VARIANT_REQUESTS}${M}[5m])) / ignoring (variant) group_left () sum (rate(${VARIANT_REQUESTS}${M}[5m]))`, '{{variant}}']],
      unit: 'percentunit',
    },
    {
      title: 'Success ratio (non-5xx) by variant',
      exprs: [[`1 - sum by (variant) (rate(${VARIANT_REQUESTS}{model="$model", outcome="server_error"}[5m])) / sum by (variant) (rate(${VARIANT_REQUESTS}{model="$model", outcome=~"success|server_error"}[5m]))`, '{{variant}}']],
      unit: 'percentunit',
    },
    { title: 'Inference latency p50 / p99 by variant', exprs: [[q(0.5, 'switchyard_gateway_variant_request_duration_seconds', 'variant', M), 'p50 {{variant}}'], [q(0.99, 'switchyard_gateway_variant_request_duration_seconds', 'variant', M), 'p99 {{variant}}']], unit: 's' },
    { title: 'Weight set by the flags', exprs: [[`max by (variant) (switchyard_gateway_variant_weight_percent${M})`, '{{variant}}']], unit: 'percent' },
    { title: 'Rollout step: candidate share', exprs: [[`max (switchyard_gateway_rollout_step_percent${M})`, 'step']], unit: 'percent' },
    { title: 'Kill switch', exprs: [[`max (switchyard_gateway_kill_switch${M})`, 'kill switch']], type: 'stat' },
    { title: 'Rollout guards: success ratio since the step began', exprs: [[`min by (variant) (switchyard_gateway_rollout_guard_success_ratio${M})`, '{{variant}}']], unit: 'percentunit' },
    { title: 'Rollout guards: p99 since the step began', exprs: [[`max by (variant) (switchyard_gateway_rollout_guard_p99_seconds${M})`, '{{variant}}']], unit: 's' },
    { title: 'Rollout guards: requests judged', exprs: [[`sum by (variant) (switchyard_gateway_rollout_guard_requests${M})`, '{{variant}}']] },
    { title: 'Rollout decisions in the time range', exprs: [['sum by (action) (round(increase(switchyard_gateway_rollout_decisions_total{model="$model"}[$__range])))', '{{action}}']], type: 'stat' },
    { title: 'Flag evaluations by variant and reason', exprs: [[`sum by (variant, reason) (rate(switchyard_gateway_flag_evaluations_total${M}[1m]))`, '{{variant}} {{reason}}']], unit: 'reqps' },
    {
      title: 'Shadow agreement ratio',
      exprs: [[`sum by (variant) (rate(switchyard_gateway_shadow_requests_total{model="$model", outcome="agree"}[5m])) / sum by (variant) (rate(switchyard_gateway_shadow_requests_total${M}[5m]))`, 'agree {{variant}}']],
      unit: 'percentunit',
    },
    { title: 'Shadow latency p50 / p99', exprs: [[q(0.5, 'switchyard_gateway_shadow_duration_seconds', 'variant', M), 'p50 {{variant}}'], [q(0.99, 'switchyard_gateway_shadow_duration_seconds', 'variant', M), 'p99 {{variant}}']], unit: 's' },
  ], true, 'switchyard-gateway'),
  'worker-internals': dashboard('switchyard-worker', 'Switchyard — worker internals', [
    { title: 'Worker requests by version and status', exprs: [[`sum by (version, status) (rate(switchyard_worker_requests_total${M}[1m]))`, 'v{{version}} {{status}}']], unit: 'reqps' },
    { title: 'Average batch size (inferences ÷ executions)', exprs: [[`sum by (version) (rate(switchyard_worker_inferences_total${M}[5m])) / sum by (version) (rate(switchyard_worker_executions_total${M}[5m]))`, 'v{{version}}']] },
    { title: 'Batch size p50 / p99', exprs: [[q(0.5, 'switchyard_worker_batch_size', 'version', M), 'p50 v{{version}}'], [q(0.99, 'switchyard_worker_batch_size', 'version', M), 'p99 v{{version}}']] },
    { title: 'Queue wait p50 / p99', exprs: [[q(0.5, 'switchyard_worker_queue_wait_seconds', 'version', M), 'p50 v{{version}}'], [q(0.99, 'switchyard_worker_queue_wait_seconds', 'version', M), 'p99 v{{version}}']], unit: 's' },
    { title: 'Queue depth and capacity', exprs: [[`sum by (version) (switchyard_worker_queue_depth${M})`, 'depth v{{version}}'], [`sum by (version) (switchyard_worker_queue_capacity${M})`, 'capacity v{{version}}']] },
    { title: 'Execution provider', exprs: [[`switchyard_worker_execution_provider_info${M}`, 'v{{version}} {{provider}}']], type: 'stat' },
    ...processPanels('switchyard-workers'),
  ], true, 'switchyard-model-worker'),
  'gateway-internals': dashboard('switchyard-gateway', 'Switchyard — gateway internals', [
    { title: 'Rate-limit decisions by policy and outcome', exprs: [['sum by (policy, outcome) (rate(switchyard_gateway_rate_limit_decisions_total[1m]))', '{{policy}} {{outcome}}']], unit: 'reqps' },
    { title: 'Rate-limit store (Redis) healthy', exprs: [['min (switchyard_gateway_rate_limit_store_healthy)', 'healthy']], type: 'stat' },
    { title: 'Upstream attempts: ok, retry, timeout', exprs: [['sum by (model, outcome) (rate(switchyard_gateway_upstream_attempts_total[1m]))', '{{model}} {{outcome}}']], unit: 'reqps' },
    { title: 'Circuit breakers (0 closed, 1 half-open, 2 open)', exprs: [['max by (upstream) (switchyard_gateway_circuit_breaker_state)', '{{upstream}}']] },
    { title: 'Upstream health (last check)', exprs: [['min by (upstream) (switchyard_gateway_upstream_healthy)', '{{upstream}}']] },
    { title: 'Replicas available per variant', exprs: [['min by (model, variant) (switchyard_gateway_upstreams_available)', '{{model}} {{variant}}']] },
    { title: 'Flag store connected', exprs: [['min (switchyard_gateway_flags_connected)', 'connected']], type: 'stat' },
    { title: 'Flag versions', exprs: [['max by (model) (switchyard_gateway_flag_version)', '{{model}}']] },
    { title: 'Spans lost', exprs: [['sum by (job, reason) (rate(switchyard_telemetry_spans_lost_total[5m]))', '{{job}} {{reason}}']], unit: 'short' },
    ...processPanels('switchyard-gateway'),
  ], false, 'switchyard-gateway'),
};

for (const [name, body] of Object.entries(DASHBOARDS)) {
  const path = fileURLToPath(new URL(`../dashboards/${name}.json`, import.meta.url));
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(`wrote ${path}\n`);
}
