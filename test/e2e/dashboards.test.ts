import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '@switchyard/fleet/worker-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, inferRequest, startFleet, type Fleet, type Gateway } from '../src/fleet-fixture.ts';

const DASHBOARDS = fileURLToPath(new URL('../../observability/dashboards/', import.meta.url));
/** Labels Prometheus adds when it scrapes, or that PromQL itself provides. */
const SCRAPE_LABELS = new Set(['job', 'instance', 'le']);
const METRIC = /\b((?:switchyard|process|nodejs)_[a-z0-9_]+)\b/g;

interface Reference { dashboard: string; panel: string; metric: string; labels: string[] }

async function dashboardReferences(): Promise<Reference[]> {
  const refs: Reference[] = [];
  for (const file of (await readdir(DASHBOARDS)).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(await readFile(`${DASHBOARDS}${file}`, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr?: string; legendFormat?: string; datasource?: { type: string } }> }> };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        if (target.datasource?.type !== 'prometheus' || !target.expr) continue;
        const labels = new Set<string>();
        for (const m of target.expr.matchAll(/\bby\s*\(([^)]*)\)/g)) for (const l of (m[1] ?? '').split(',')) if (l.trim()) labels.add(l.trim());
        for (const m of target.expr.matchAll(/\{([^}]*)\}/g)) for (const sel of (m[1] ?? '').split(',')) { const name = /^\s*([a-zA-Z_]\w*)\s*(=~|!=|!~|=)/.exec(sel)?.[1]; if (name) labels.add(name); }
        for (const m of (target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) labels.add(m[1] ?? '');
        for (const m of target.expr.matchAll(METRIC)) refs.push({ dashboard: file, panel: panel.title, metric: m[1] ?? '', labels: [...labels].filter((l) => !SCRAPE_LABELS.has(l)) });
      }
    }
  }
  return refs;
}

/** metric name → label names seen on any of its series. */
function exposition(text: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (!m?.[1]) continue;
    const labels = series.get(m[1]) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) labels.add(l[1] ?? '');
    series.set(m[1], labels);
  }
  return series;
}

function counter(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('dashboards and /metrics', () => {
  let fleet: Fleet;
  let gateway: Gateway;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
    await fleet.writeConfig({
      policies: [{ name: 'tenant', per: 'tenant', rate: 10_000, burst: 10_000 }],
      shadowPercent: 100,
      deadV1Upstreams: [`http://127.0.0.1:${await freePort()}`],
    });
    gateway = await fleet.startGateway();
  });
  afterAll(async () => fleet?.close());

  it('counts every request on the gateway and on the workers', async () => {
    const scrape = async () => [await (await fetch(`${gateway.url}/metrics`)).text(), ...(await Promise.all([...fleet.workers.v1, ...fleet.workers.v2].map(async (w) => (await fetch(`${w.url}/metrics`)).text())))];
    const before = await scrape();
    const n = 40;
    const statuses = await Promise.all(Array.from({ length: n }, (_, i) => inferRequest(gateway.url, { 'x-switchyard-user': `count-${i}` }).then((r) => r.status)));
    expect(statuses).toEqual(Array(n).fill(200));
    await new Promise((r) => setTimeout(r, 300)); // shadow copies land after the answers
    const after = await scrape();
    const gatewayOk = /^switchyard_gateway_requests_total\{model="seed-classifier",variant="v\d",status="200"\} (\d+)$/gm;
    expect(counter(after[0] ?? '', gatewayOk) - counter(before[0] ?? '', gatewayOk)).toBe(n);
    const workerOk = /^switchyard_worker_requests_total\{model="seed-classifier",version="\d",status="200"\} (\d+)$/gm;
    const workerDelta = after.slice(1).reduce((s, t, i) => s + counter(t, workerOk) - counter(before[i + 1] ?? '', workerOk), 0);
    const shadowDelta = counter(after[0] ?? '', /^switchyard_gateway_shadow_requests_total\{[^}]*\} (\d+)$/gm) - counter(before[0] ?? '', /^switchyard_gateway_shadow_requests_total\{[^}]*\} (\d+)$/gm);
    // Every request reached a worker once, plus one shadow copy for each request v1 served.
    expect(workerDelta).toBe(n + shadowDelta);
    expect(shadowDelta).toBeGreaterThan(0);
  });

  it('references only metrics and labels the services actually expose', async () => {
    // Drive what only some traffic produces: a rollout decision.
    expect((await admin(gateway, 'POST', '/admin/rollouts/seed-classifier/start', { candidate: 'v2', steps: [30, 100], interval_seconds: 0.5, guards: { min_requests: 1, latency_slack_ms: 1000 } })).status).toBe(200);
    for (let i = 0; i < 60; i++) {
      await inferRequest(gateway.url, { 'x-switchyard-user': `dash-${i}` });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 200));
    }
    // A plan that stays running, so the guard gauges are exposed too.
    expect((await admin(gateway, 'POST', '/admin/flags/seed-classifier/reset')).status).toBe(200);
    expect((await admin(gateway, 'POST', '/admin/rollouts/seed-classifier/start', { candidate: 'v2', steps: [30, 100], interval_seconds: 600 })).status).toBe(200);
    for (let i = 0; i < 10; i++) await inferRequest(gateway.url, { 'x-switchyard-user': `guard-${i}` });
    const texts = [await (await fetch(`${gateway.url}/metrics`)).text(), await (await fetch(`${fleet.workers.v1[0]?.url}/metrics`)).text()];
    expect(texts[0]).toMatch(/^switchyard_gateway_rollout_decisions_total\{/m);
    const exposed = new Map<string, Set<string>>();
    for (const text of texts) for (const [name, labels] of exposition(text)) exposed.set(name, new Set([...(exposed.get(name) ?? []), ...labels]));

    const refs = await dashboardReferences();
    expect(refs.length).toBeGreaterThan(30);
    const problems: string[] = [];
    for (const ref of refs) {
      const labels = exposed.get(ref.metric);
      if (!labels) {
        problems.push(`${ref.dashboard} › ${ref.panel}: metric ${ref.metric} is not exposed`);
        continue;
      }
      for (const label of ref.labels) if (!labels.has(label)) problems.push(`${ref.dashboard} › ${ref.panel}: ${ref.metric} has no label '${label}' (has ${[...labels].join(', ')})`);
    }
    expect(problems).toEqual([]);
  });
});
