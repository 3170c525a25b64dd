/**
 * Cost per request, side by side in one run: the same seed-classifier
 * worker reached directly and through nginx, HAProxy, a bare Node proxy
 * (the floor for a Node proxy) and the Switchyard gateway — without rate
 * limits, full (API key, two Redis GCRA policies, flags, a sticky A/B split
 * by user header), and full with tracing at 10% sampling. Load from `wrk`
 * at 32 connections (throughput) and 1 connection (added latency); CPU per
 * request of the proxy and of the worker from /proc. A peer whose binary is
 * missing is skipped with a note, never faked.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, startGatewayProcess, startWorkerProcess, type ServiceProcess } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { deleteKeys } from '../src/fleet-fixture.ts';
import { startOtlpReceiver } from '../src/otlp-receiver.ts';
import type { Measurement } from './measurement.ts';
import { cpuSeconds } from './process-cpu.ts';
import { hasWrk, runWrk } from './wrk-load.ts';

export interface ProxyRow extends Measurement {
  scenario: string;
  concurrency: number;
  /** CPU (user + system) of the proxy per request, µs; absent for the direct path. */
  proxyCpuMicrosPerRequest?: number;
  workerCpuMicrosPerRequest: number;
}

const KEY = 'sy_bench_key';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });
const INFER_PATH = '/v2/models/seed-classifier/infer';

interface Path {
  scenario: string;
  url: string;
  headers?: Record<string, string>;
  /** The proxy's process, whose CPU is measured. */
  pid?: number;
}

interface Peer {
  pid: number;
  stop(): Promise<void>;
}

async function waitFor200(url: string, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer 200 at ${url} within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function startPeer(command: string, args: string[], readyUrl: string, what: string): Promise<Peer> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return waitFor200(readyUrl, what, child).then(
    () => ({ pid: child.pid ?? 0, stop }),
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}

function onPath(binary: string): Promise<boolean> {
  return new Promise((resolve) => execFile('sh', ['-c', `command -v ${binary}`], (error) => resolve(!error)));
}

async function startNginx(dir: string, upstreamPort: number): Promise<Peer & { url: string }> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  upstream worker { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / { proxy_pass http://worker; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`);
  const url = `http://127.0.0.1:${port}`;
  return { url, ...(await startPeer('nginx', ['-e', join(dir, 'nginx-error.log'), '-p', dir, '-c', conf], `${url}/v2/health/ready`, 'nginx')) };
}

async function startHaproxy(dir: string, upstreamPort: number): Promise<Peer & { url: string }> {
  const port = await freePort();
  const conf = join(dir, 'haproxy.cfg');
  await writeFile(conf, `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  http-reuse always
  server worker 127.0.0.1:${upstreamPort}
`);
  const url = `http://127.0.0.1:${port}`;
  return { url, ...(await startPeer('haproxy', ['-db', '-f', conf], `${url}/v2/health/ready`, 'haproxy')) };
}

async function startBareProxy(upstream: string): Promise<Peer & { url: string }> {
  const port = await freePort();
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const url = `http://127.0.0.1:${port}`;
  return { url, ...(await startPeer(process.execPath, ['--import', tsx, join(import.meta.dirname, 'bare-proxy.ts'), String(port), upstream], `${url}/v2/health/ready`, 'bare Node proxy')) };
}

/**
 * The bench's gateway config in front of one worker serving versions 1 and 2: API key `key`
 * and routing; `full` adds two Redis GCRA policies and a sticky 50/50 A/B split by flags.
 */
export function gatewayConfig(workerUrl: string, full: boolean, key = KEY): string {
  const auth = { api_keys: [{ id: 'bench', sha256: createHash('sha256').update(key).digest('hex'), tenant: 'bench', scopes: ['infer:*'] }] };
  const gateway = { admin_port: 0 }; // the OS picks: several gateways run at once
  if (!full) return stringify({ version: 1, gateway, auth, models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [workerUrl] }] } } });
  return stringify({
    version: 1,
    gateway,
    auth,
    // Evaluated on every request (one Redis decision each), set high enough never to refuse.
    rate_limits: { policies: [{ name: 'tenant', per: 'tenant', rate: 1e6, burst: 1e6 }, { name: 'key', per: 'api_key', rate: 1e6, burst: 1e6 }] },
    models: {
      'seed-classifier': {
        stable: 'v1',
        variants: [
          { name: 'v1', version: 1, weight: 50, upstreams: [workerUrl] },
          { name: 'v2', version: 2, weight: 50, upstreams: [workerUrl] },
        ],
      },
    },
  });
}

export async function benchProxies(repository: string, durationS: number, redisUrl: string, record: (row: ProxyRow) => void, note: (line: string) => void): Promise<void> {
  if (!(await hasWrk())) {
    note('proxies: skipped — wrk is not installed (apt-get install wrk)');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-proxies-bench-'));
  const stops: Array<() => Promise<unknown>> = [];
  const redisPrefix = `switchyard-bench:${randomUUID()}:`;
  try {
    // Default log levels for every Switchyard process: one access-log line per request, as in production.
    const worker = await startWorkerProcess({ model: 'seed-classifier', repository, versions: [1, 2] });
    stops.push(() => worker.stop());
    const workerPid = worker.child.pid ?? 0;
    const paths: Path[] = [{ scenario: 'direct to worker', url: `${worker.url}${INFER_PATH}` }];

    for (const [binary, start, scenario] of [
      ['nginx', startNginx, 'nginx, 1 worker process, keep-alive upstream'],
      ['haproxy', startHaproxy, 'HAProxy, 1 thread, keep-alive upstream'],
    ] as const) {
      if (!(await onPath(binary))) {
        note(`proxies: ${binary} skipped — not installed (apt-get install ${binary === 'nginx' ? 'nginx-light' : binary})`);
        continue;
      }
      const peer = await start(dir, worker.port);
      stops.push(() => peer.stop());
      paths.push({ scenario, url: `${peer.url}${INFER_PATH}`, pid: peer.pid });
    }
    const bare = await startBareProxy(worker.url);
    stops.push(() => bare.stop());
    paths.push({ scenario: 'bare Node proxy (node:http + undici pool, no logic)', url: `${bare.url}${INFER_PATH}`, pid: bare.pid });

    const receiver = await startOtlpReceiver();
    stops.push(() => receiver.close());
    const gateways: Array<[string, boolean, Record<string, string>]> = [
      ['Switchyard gateway, no rate-limit policies (API key, routing)', false, {}],
      ['Switchyard gateway, full (API key, Redis GCRA ×2, flags, sticky A/B)', true, {}],
      ['Switchyard gateway, full, tracing on at 10% sampling', true, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1',
      }],
    ];
    for (const [scenario, full, env] of gateways) {
      const configPath = join(dir, `gateway-${gateways.findIndex(([s]) => s === scenario)}.yaml`);
      await writeFile(configPath, gatewayConfig(worker.url, full));
      // Default log level: one access-log line per request, as in production.
      const gateway: ServiceProcess = await startGatewayProcess({ configPath, env: { REDIS_URL: redisUrl, SWITCHYARD_REDIS_PREFIX: redisPrefix, ...env } });
      stops.push(() => gateway.stop());
      const ready = `${gateway.url}/v2/health/ready`;
      for (let i = 0; i < 200 && (await fetch(ready)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
      gateway.lines.length = 0;
      paths.push({ scenario, url: `${gateway.url}${INFER_PATH}`, pid: gateway.child.pid, headers: { authorization: `Bearer ${KEY}`, 'x-switchyard-user': 'bench-user-1' } });
    }

    for (const connections of [32, 1]) {
      for (const path of paths) {
        await runWrk({ url: path.url, body: BODY, connections, durationS: 1, headers: path.headers }); // warm-up
        const proxyBefore = path.pid ? cpuSeconds(path.pid) : 0;
        const workerBefore = cpuSeconds(workerPid);
        const m = await runWrk({ url: path.url, body: BODY, connections, durationS, headers: path.headers });
        const proxyCpu = path.pid ? cpuSeconds(path.pid) - proxyBefore : undefined;
        const workerCpu = cpuSeconds(workerPid) - workerBefore;
        record({
          scenario: path.scenario,
          concurrency: connections,
          rowsPerSecond: m.requests / m.elapsedS,
          p50Ms: m.p50Ms,
          p99Ms: m.p99Ms,
          requests: m.requests,
          errors: m.errors,
          ...(proxyCpu === undefined ? {} : { proxyCpuMicrosPerRequest: (proxyCpu / m.requests) * 1e6 }),
          workerCpuMicrosPerRequest: (workerCpu / m.requests) * 1e6,
        });
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await deleteKeys(redisUrl, redisPrefix);
    await rm(dir, { recursive: true, force: true });
  }
}
