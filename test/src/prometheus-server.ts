/**
 * A real Prometheus (Debian's `prometheus` package) for end-to-end tests:
 * scrapes the given targets every second on 127.0.0.1, loads rule files,
 * and answers PromQL through its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { eventually } from './eventually.ts';

export interface PrometheusOptions {
  /** Job name → `host:port` targets. */
  jobs: Record<string, string[]>;
  ruleFiles?: string[];
  /** Default `1s`. */
  scrapeInterval?: string;
}

export interface Sample { metric: Record<string, string>; value: number }

export interface PrometheusServer {
  url: string;
  /** Instant query; rejects on a PromQL error. */
  query(expr: string): Promise<Sample[]>;
  /** Label values of the series matching `match`. */
  labelValues(label: string, match: string): Promise<string[]>;
  rules(): Promise<Array<{ name: string; health: string; lastError?: string }>>;
  lines: string[];
  close(): Promise<void>;
}

interface ApiAnswer<T> { status: 'success' | 'error'; data: T; error?: string }

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success') throw new Error(`Prometheus ${url}: ${body.error ?? res.status}`);
  return body.data;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const { jobs, ruleFiles = [], scrapeInterval = '1s' } = options;
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-prometheus-'));
  const config = {
    global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval },
    rule_files: ruleFiles,
    scrape_configs: Object.entries(jobs).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  await writeFile(join(dir, 'prometheus.yaml'), stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const lines: string[] = [];
  let child: ChildProcess;
  try {
    child = await new Promise<ChildProcess>((resolve, reject) => {
      const p = spawn('prometheus', [
        `--config.file=${join(dir, 'prometheus.yaml')}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.tsdb.path=${join(dir, 'data')}`,
        '--log.level=warn',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new Error('prometheus is not installed: install Debian\'s prometheus package (apt-get install -y prometheus)') : error));
      p.once('spawn', () => resolve(p));
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  child.stdout?.on('data', (d: Buffer) => lines.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => lines.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await eventually(
    () => fetch(`${url}/-/ready`).then((r) => r.status, () => 0),
    (status) => status === 200,
    30_000,
    100,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`prometheus did not become ready: ${(error as Error).message}\n${lines.join('')}`);
  });

  return {
    url,
    lines,
    async query(expr) {
      const data = await api<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType === 'scalar') throw new Error(`expected a vector from ${expr}`);
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    labelValues: (label, match) => api<string[]>(`${url}/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(match)}`),
    async rules() {
      const data = await api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>(`${url}/api/v1/rules`);
      return data.groups.flatMap((g) => g.rules);
    },
    async close() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
