/**
 * The dashboards against a real Prometheus: it scrapes a real local fleet
 * (gateway and workers as processes) every second while a scripted mix
 * runs — successes for many users, client errors, unauthenticated and
 * unknown-model probes, rate-limited bursts, shadow copies, a gray-release
 * step, a candidate that starts failing and is rolled back, a worker killed —
 * and every panel and variable query of every dashboard is evaluated through
 * `/api/v1/query`. The alerting rules are loaded too and must evaluate
 * without errors against the real metrics.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { admin, FLEET_KEY, inferRequest, startFleet, TWIN_MODEL, type Fleet, type FleetOverrides, type Gateway } from '../src/fleet-fixture.ts';
import { startPrometheus, type PrometheusServer } from '../src/prometheus-server.ts';

const DASHBOARDS = fileURLToPath(new URL('../../observability/dashboards/', import.meta.url));
const RULES = fileURLToPath(new URL('../../observability/ops/alerts/switchyard.rules.yaml', import.meta.url));
const MODEL = 'seed-classifier';
const BURST_KEY = 'sy_e2e_burst_key';
/** Users' traffic is spread over several keys, each well under the per-key limit; one burst key goes over it. */
const USER_KEYS = Array.from({ length: 8 }, (_, i) => ({ id: `user-key-${i}`, key: `sy_e2e_user_key_${i}` }));
/** Grafana's variables as the test sets them: the model, and a time range covering the whole run. */
const VARIABLES: Record<string, string> = { $model: MODEL, $__range: '30m' };

interface Query { dashboard: string; panel: string; expr: string }

async function dashboardQueries(): Promise<{ panels: Query[]; variables: Query[] }> {
  const panels: Query[] = [];
  const variables: Query[] = [];
  for (const file of (await readdir(DASHBOARDS)).filter((f) => f.endsWith('.json')).sort()) {
    const d = JSON.parse(await readFile(`${DASHBOARDS}${file}`, 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr?: string; datasource?: { type: string } }> }>;
      templating: { list: Array<{ name: string; query: string }> };
    };
    for (const p of d.panels) for (const t of p.targets) if (t.datasource?.type === 'prometheus' && t.expr) panels.push({ dashboard: file, panel: p.title, expr: t.expr });
    for (const v of d.templating.list) variables.push({ dashboard: file, panel: `$${v.name}`, expr: v.query });
  }
  return { panels, variables };
}

const substitute = (expr: string, model = MODEL): string => expr.replace(/\$[_a-z]+/g, (name) => (name === '$model' ? model : VARIABLES[name] ?? name));

/** A stand-in for a variant that has started failing: ready, but every inference is a 500. */
function failingWorker(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const ready = req.method === 'GET';
      res.writeHead(ready ? 200 : 500, { 'content-type': 'application/json' }).end(ready ? '{"ready":true}' : '{"error":"model crashed"}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function inBatches<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < n; i += concurrency) results.push(...(await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, (_, j) => task(i + j)))));
  return results;
}

describe('dashboards against a real Prometheus scraping a real fleet', () => {
  let fleet: Fleet;
  let gateway: Gateway;
  let prometheus: PrometheusServer;
  let failing: Server;
  let runId = 0;
  const overrides: FleetOverrides = {
    policies: [{ name: 'per-key', per: 'api_key', rate: 40, burst: 10 }],
    shadowPercent: 50,
    extraKeys: [{ id: 'burst', key: BURST_KEY }, ...USER_KEYS],
  };
  /** Status of every split inference request the test sent, by variant that answered. */
  const served = { ok: 0, clientError: 0, routed: 0, byVariant: new Map<string, number>() };

  let sent = 0;
  const split = async (user: string, body?: string): Promise<number> => {
    const key = USER_KEYS[sent++ % USER_KEYS.length]?.key ?? '';
    const res = await fetch(`${gateway.url}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-switchyard-user': user },
      body: body ?? JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.3, -0.1] }] }),
    });
    await res.arrayBuffer();
    if (res.status !== 429) {
      served.routed++;
      const variant = res.headers.get('x-switchyard-variant') ?? '?';
      served.byVariant.set(variant, (served.byVariant.get(variant) ?? 0) + 1);
    }
    if (res.status === 200) served.ok++;
    if (res.status === 400) served.clientError++;
    return res.status;
  };
  const scalar = async (expr: string): Promise<number> => (await prometheus.query(expr))[0]?.value ?? NaN;
  const plan = async () => ((await admin(gateway, 'GET', `/admin/flags/${MODEL}`)).body as { state: { plan?: { step: number; status: string } } }).state.plan;

  beforeAll(async () => {
    failing = await failingWorker();
    fleet = await startFleet({ v1Replicas: 2, twinModel: true });
    await fleet.writeConfig(overrides);
    gateway = await fleet.startGateway();
    const port = (url: string) => url.replace('http://', '');
    prometheus = await startPrometheus({
      jobs: {
        'switchyard-gateway': [port(gateway.url)],
        'switchyard-workers': [...fleet.workers.v1, ...fleet.workers.v2, ...fleet.workers.twin].map((w) => port(w.url)),
      },
      ruleFiles: [RULES],
    });
    await eventually(() => prometheus.query('up{job=~"switchyard-.*"} == 1'), (r) => r.length === 5, 30_000, 200);
  });
  afterAll(async () => {
    await prometheus?.close();
    await fleet?.close();
    await new Promise((r) => failing?.close(r));
  });

  it('phase 1, a healthy A/B split: share matches the weights, 5xx ratio is 0 (not empty), latency counts only inference answers', async () => {
    runId++;
    const statuses = await inBatches(300, 4, (i) => split(`user-${runId}-${i}`));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    // The second configured model gets traffic of its own.
    const twin = await inBatches(30, 3, (i) => inferRequest(gateway.url, { authorization: `Bearer ${USER_KEYS[i % USER_KEYS.length]?.key ?? ''}` }, `/v2/models/${TWIN_MODEL}/infer`).then((r) => r.status));
    expect(new Set(twin)).toEqual(new Set([200]));
    // Client errors (bad shape → 400 from the worker), probes, unknown models, metadata reads and a rate-limited burst.
    const bad = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] });
    expect(new Set(await inBatches(20, 4, (i) => split(`bad-${i}`, bad)))).toEqual(new Set([400]));
    for (let i = 0; i < 5; i++) {
      expect((await fetch(`${gateway.url}/v2/models/${MODEL}/infer`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect((await fetch(`${gateway.url}/v2/models/probe-${i}/infer`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect((await inferRequest(gateway.url, {}, `/v2/models/no-such-model-${i}/infer`)).status).toBe(404);
      expect((await fetch(`${gateway.url}/v2/models/${MODEL}/ready`, { headers: { authorization: `Bearer ${FLEET_KEY}` } })).status).toBe(200);
    }
    const burst = await Promise.all(Array.from({ length: 60 }, () => inferRequest(gateway.url, { authorization: `Bearer ${BURST_KEY}` }).then((r) => r.status)));
    expect(burst.filter((s) => s === 429).length).toBeGreaterThan(0);
    const burstServed = burst.filter((s) => s === 200).length;

    // Wait until Prometheus has scraped everything sent so far (counters are exact).
    const routed = served.routed + burstServed;
    await eventually(() => scalar(`sum(switchyard_gateway_variant_requests_total{model="${MODEL}"})`), (v) => v === routed, 20_000, 250);

    const share = await prometheus.query(substitute((await panel('ab-comparison.json', 'Traffic share by variant (inference requests routed)')).expr));
    const byVariant: Record<string, number> = Object.fromEntries(share.map((s) => [s.metric.variant ?? '', s.value]));
    expect(Object.keys(byVariant).sort()).toEqual(['v1', 'v2']); // no "none", no "unknown"
    expect(byVariant.v1).toBeGreaterThan(0.6);
    expect(byVariant.v1).toBeLessThan(0.8);
    expect(Math.abs((byVariant.v1 ?? 0) + (byVariant.v2 ?? 0) - 1)).toBeLessThan(1e-9);

    const success = await prometheus.query(substitute((await panel('ab-comparison.json', 'Success ratio (non-5xx) by variant')).expr));
    expect(success.map((s) => [s.metric.variant, s.value]).sort()).toEqual([['v1', 1], ['v2', 1]]);
    const errors = await prometheus.query((await panel('fleet-overview.json', 'Error ratio (5xx) by model (routed inference)')).expr);
    expect(errors.find((s) => s.metric.model === MODEL)?.value).toBe(0);

    // Per-variant latency counts the inference requests each variant answered successfully, nothing else.
    const timed = await scalar(`sum(switchyard_gateway_variant_request_duration_seconds_count{model="${MODEL}"})`);
    expect(timed).toBe(served.ok + burstServed);
    expect(await prometheus.labelValues('model', 'switchyard_gateway_variant_requests_total')).toEqual([MODEL, TWIN_MODEL]);
  });

  it('phase 2, a gray-release step then a failing candidate: one advance, one rollback, 5xx ratio above 0', async () => {
    expect((await admin(gateway, 'POST', `/admin/rollouts/${MODEL}/start`, { candidate: 'v2', steps: [20, 50, 100], interval_seconds: 1, guards: { min_requests: 5, latency_slack_ms: 1000 } })).status).toBe(200);
    let i = 0;
    const advanced = await eventually(async () => {
      await inBatches(20, 4, () => split(`step-${i++}`));
      return (await plan())?.step ?? 0;
    }, (step) => step >= 1, 60_000, 10);

    // The candidate starts failing: its upstream becomes a worker that answers every inference with 500.
    const failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    await fleet.writeConfig({ ...overrides, v2Upstreams: [failingUrl] });
    await eventually(async () => (await (await fetch(`${gateway.url}/metrics`)).text()).includes(failingUrl), Boolean, 20_000, 100);
    await eventually(async () => {
      await inBatches(20, 4, () => split(`fail-${i++}`));
      return (await plan())?.status;
    }, (status) => status === 'rolled_back', 60_000, 10);

    const decisions = await panel('ab-comparison.json', 'Rollout decisions in the time range');
    const byAction = await eventually(
      async (): Promise<Record<string, number>> => Object.fromEntries((await prometheus.query(substitute(decisions.expr))).map((s) => [s.metric.action ?? '', s.value])),
      (d) => d.rollback === 1,
      20_000,
      250,
    );
    expect(byAction).toEqual({ advance: advanced, promote: 0, rollback: 1 });
    const success = await prometheus.query(substitute((await panel('ab-comparison.json', 'Success ratio (non-5xx) by variant')).expr));
    expect(success.find((s) => s.metric.variant === 'v2')?.value).toBeLessThan(1);
    expect(success.find((s) => s.metric.variant === 'v1')?.value).toBe(1);
    const errors = await prometheus.query((await panel('fleet-overview.json', 'Error ratio (5xx) by model (routed inference)')).expr);
    expect(errors.find((s) => s.metric.model === MODEL)?.value).toBeGreaterThan(0);
  });

  it('phase 3, a worker killed: its target shows down and the gateway counts one v1 replica fewer', async () => {
    await fleet.writeConfig(overrides);
    const failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    await eventually(async () => (await (await fetch(`${gateway.url}/metrics`)).text()).includes(failingUrl), (seen) => !seen, 20_000, 100);
    const victim = fleet.workers.v1[1];
    if (!victim) throw new Error('the fleet has two v1 workers');
    victim.child.kill('SIGKILL');
    await victim.exited;
    const instance = victim.url.replace('http://', '');
    const up = await panel('fleet-overview.json', 'Targets up (1 up, 0 down)');
    await eventually(async () => (await prometheus.query(up.expr)).find((s) => s.metric.instance === instance)?.value, (v) => v === 0, 20_000, 250);
    const available = await panel('gateway-internals.json', 'Replicas available per variant');
    await eventually(async () => (await prometheus.query(available.expr)).find((s) => s.metric.variant === 'v1')?.value, (v) => v === 1, 20_000, 250);
  });

  it('phase 4, with a plan running: every panel and variable query of every dashboard returns data', async () => {
    expect((await admin(gateway, 'POST', `/admin/flags/${MODEL}/reset`)).status).toBe(200);
    expect((await admin(gateway, 'POST', `/admin/rollouts/${MODEL}/start`, { candidate: 'v2', steps: [30, 100], interval_seconds: 600 })).status).toBe(200);
    await inBatches(60, 4, (i) => split(`guard-${i}`));
    const { panels, variables } = await dashboardQueries();
    expect(panels.length).toBeGreaterThan(40);
    await eventually(() => scalar(`count(switchyard_gateway_rollout_guard_requests{model="${MODEL}"})`), (n) => n === 2, 20_000, 250);

    // The rollout step reads as the candidate's share, and the flags' weights agree with it.
    const step = await prometheus.query(substitute((await panel('ab-comparison.json', 'Rollout step: candidate share')).expr));
    expect(step.map((r) => r.value)).toEqual([30]);
    const weights = await prometheus.query(substitute((await panel('ab-comparison.json', 'Weight set by the flags')).expr));
    expect(Object.fromEntries(weights.map((r) => [r.metric.variant ?? '', r.value]))).toEqual({ v1: 70, v2: 30 });

    await inBatches(20, 4, (i) => inferRequest(gateway.url, { authorization: `Bearer ${USER_KEYS[i % USER_KEYS.length]?.key ?? ''}` }, `/v2/models/${TWIN_MODEL}/infer`));
    const models = await prometheus.labelValues('model', 'switchyard_gateway_variant_requests_total');
    expect(models).toEqual([MODEL, TWIN_MODEL]);

    const empty: string[] = [];
    const perDashboard = new Map<string, { queries: number; withData: number }>();
    for (const q of [...variables, ...panels]) {
      const tally = perDashboard.get(q.dashboard) ?? { queries: 0, withData: 0 };
      perDashboard.set(q.dashboard, tally);
      tally.queries++;
      const label = /^label_values\((.+), (\w+)\)$/.exec(q.expr);
      const rows = label ? await prometheus.labelValues(label[2] ?? '', label[1] ?? '') : await prometheus.query(substitute(q.expr));
      if (rows.length > 0) tally.withData++;
      else empty.push(`${q.dashboard} › ${q.panel}: ${q.expr}`);
    }
    // eslint-disable-next-line no-console -- the run's record: queries with data per dashboard
    console.log([...perDashboard].map(([d, t]) => `${d}: ${t.withData}/${t.queries} queries returned data (model ${MODEL})`).join('\n'));
    expect(empty).toEqual([]);

    // Every model-scoped panel has data for the other configured model too, except what it does not have:
    // no shadow variant and no running rollout plan.
    const notApplicable = /^(Shadow|Rollout guards)/;
    const twinEmpty: string[] = [];
    let twinQueries = 0;
    for (const q of panels.filter((p) => p.expr.includes('$model') && !notApplicable.test(p.panel))) {
      twinQueries++;
      if ((await prometheus.query(substitute(q.expr, TWIN_MODEL))).length === 0) twinEmpty.push(`${q.dashboard} › ${q.panel}`);
    }
    // eslint-disable-next-line no-console -- the run's record
    console.log(`${twinQueries - twinEmpty.length}/${twinQueries} model-scoped queries returned data for ${TWIN_MODEL}`);
    expect(twinEmpty).toEqual([]);

    // The alerting rules evaluate against the real series without errors.
    const rules = await prometheus.rules();
    expect(rules.length).toBeGreaterThan(5);
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError ?? r.health}`)).toEqual([]);
  });
});

async function panel(dashboard: string, title: string): Promise<Query> {
  const { panels } = await dashboardQueries();
  const found = panels.find((p) => p.dashboard === dashboard && p.panel === title);
  if (!found) throw new Error(`${dashboard} has no panel '${title}'`);
  return found;
}
