/**
 * The shipped Prometheus assets, checked by the tool that owns their
 * format: `promtool check config` (the ops stack's scrape config),
 * `promtool check rules` and `promtool test rules` (the alerting rules and
 * their unit tests). promtool comes with Debian's `prometheus` package.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusRule } from '../scripts/prometheus-rule.ts';

const run = promisify(execFile);
const OPS = fileURLToPath(new URL('../ops/', import.meta.url));
const ALERTS = `${OPS}alerts/`;
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

interface Rule { alert?: string; record?: string; expr: string; annotations?: Record<string, string>; labels?: Record<string, string> }

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: ALERTS });
    return stdout + stderr;
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('promtool is not installed: install Debian\'s prometheus package (apt-get install -y prometheus) to check the alerting rules');
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

describe('alerting rules', () => {
  let rules: Rule[];
  beforeAll(async () => {
    const file = parse(await readFile(`${ALERTS}switchyard.rules.yaml`, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    rules = file.groups.flatMap((g) => g.rules);
  });

  it('pass promtool check rules', async () => {
    expect(await promtool('check', 'rules', 'switchyard.rules.yaml')).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their promtool unit tests (each alert fires when it should and not before)', async () => {
    expect(await promtool('test', 'rules', 'switchyard.rules.test.yaml')).toContain('SUCCESS');
  });

  it('have a unit test for every alert', async () => {
    const tests = await readFile(`${ALERTS}switchyard.rules.test.yaml`, 'utf8');
    const tested = new Set([...tests.matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    for (const rule of rules) if (rule.alert) expect(tested, rule.alert).toContain(rule.alert);
  });

  it('cover what operators must hear about', () => {
    const exprs = rules.map((r) => r.expr).join('\n');
    for (const metric of [
      'switchyard_gateway_variant_requests_total', 'switchyard_gateway_variant_request_duration_seconds_bucket', 'switchyard_gateway_circuit_breaker_state',
      'switchyard_gateway_upstreams_available', 'switchyard_gateway_flags_connected', 'switchyard_gateway_rate_limit_store_healthy',
      'switchyard_worker_queue_depth', 'switchyard_worker_requests_total', 'switchyard_telemetry_spans_lost_total', 'up{',
    ]) expect(exprs).toContain(metric);
  });

  it('name a README runbook section for every alert', async () => {
    const readme = await readFile(README, 'utf8');
    const anchors = new Set([...readme.matchAll(/^#{2,6} (.+)$/gm)].map((m) => (m[1] ?? '').trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    for (const rule of rules.filter((r) => r.alert)) {
      const url = rule.annotations?.runbook_url ?? '';
      expect(url, rule.alert).toBe(`README.md#${rule.alert?.toLowerCase()}`);
      expect(anchors, `README has no section for ${rule.alert}`).toContain(rule.alert?.toLowerCase());
      expect(rule.labels?.severity, rule.alert).toMatch(/^(page|warning)$/);
    }
  });

  it('ship the same groups as a PrometheusRule, regenerated from the rules file', async () => {
    const [source, shipped] = await Promise.all([readFile(`${ALERTS}switchyard.rules.yaml`, 'utf8'), readFile(`${ALERTS}prometheus-rule.yaml`, 'utf8')]);
    expect(shipped, 'run `npm run alert-rules -w @switchyard/observability`').toBe(prometheusRule(source));
    const resource = parse(shipped) as { apiVersion: string; kind: string; spec: { groups: unknown } };
    expect(resource).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
    expect(resource.spec.groups).toEqual((parse(source) as { groups: unknown }).groups);
  });
});

describe('ops stack configs', () => {
  it('the Prometheus config passes promtool check config, loads the rules and scrapes the fleet on 127.0.0.1', async () => {
    expect(await promtool('check', 'config', `${OPS}prometheus.yaml`)).toMatch(/SUCCESS: .*prometheus\.yaml is valid/);
    const config = parse(await readFile(`${OPS}prometheus.yaml`, 'utf8')) as { rule_files: string[]; scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    expect(config.rule_files).toEqual(['alerts/switchyard.rules.yaml']);
    const targets = config.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    for (const target of targets) expect(target).toMatch(/^127\.0\.0\.1:\d+$/);
    // The same ports `npm start` uses for the fleet in switchyard.yaml.
    const fleet = parse(await readFile(fileURLToPath(new URL('../../switchyard.yaml', import.meta.url)), 'utf8')) as {
      gateway: { port: number }; models: Record<string, { variants: Array<{ port: number; replicas: number }> }>;
    };
    const ports = [fleet.gateway.port, ...Object.values(fleet.models).flatMap((m) => m.variants.flatMap((v) => Array.from({ length: v.replicas }, (_, i) => v.port + i)))];
    expect(targets.map((t) => Number(t.split(':')[1])).sort()).toEqual(ports.sort());
  });

  it('the compose stack runs on the host network, so it reaches a fleet listening on 127.0.0.1', async () => {
    const compose = parse(await readFile(`${OPS}compose.yaml`, 'utf8')) as { services: Record<string, { network_mode?: string }> };
    for (const [name, service] of Object.entries(compose.services)) expect(service.network_mode, name).toBe('host');
    const datasources = await readFile(`${OPS}grafana/provisioning/datasources/datasources.yaml`, 'utf8');
    expect(datasources).toContain('http://127.0.0.1:9090');
    expect(await readFile(`${OPS}otel-collector.yaml`, 'utf8')).toContain('127.0.0.1:4417');
    expect(await readFile(`${OPS}tempo.yaml`, 'utf8')).toContain('127.0.0.1:4417');
  });
});
