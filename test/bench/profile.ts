#!/usr/bin/env node
/**
 * `npm run profile -- [--target=gateway|worker] [--seconds=10] [--connections=32]`:
 * CPU profiles of Switchyard's services under load, and where their time
 * goes. `gateway` (default): seed-classifier through a gateway with the full
 * pipeline (API key, two Redis GCRA policies, flags, sticky A/B split),
 * both processes profiled; `worker`: the worker alone, called directly.
 * Load from `wrk`. Writes the V8 `.cpuprofile` files (open them in Chrome
 * DevTools' Performance panel or speedscope for flame graphs) to
 * `bench-results/profiles/<target>-<time>/` and prints, per process, CPU per
 * request (from /proc) and the busy time by package and by function, as
 * shares and as microseconds per request. Start-up and the warm-up (module
 * loading, JIT) are left out: samples count from the warm-up's end.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startGatewayProcess, startWorkerProcess, type ServiceProcess } from '@switchyard/fleet/worker-process';
import { hasSampleModels, writeSampleRepository } from '@switchyard/model-worker/samples';
import { deleteKeys } from '../src/fleet-fixture.ts';
import { cpuSeconds } from './process-cpu.ts';
import { gatewayConfig } from './proxies-bench.ts';
import { hasWrk, runWrk } from './wrk-load.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { values } = parseArgs({ options: { target: { type: 'string', default: 'gateway' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
if (values.target !== 'gateway' && values.target !== 'worker') {
  console.error(`--target must be gateway or worker (got '${values.target}')`);
  process.exit(2);
}
const target = values.target;
const seconds = Number(values.seconds);
const connections = Number(values.connections);
if (!(seconds > 0) || !(connections > 0)) {
  console.error('--seconds and --connections must be positive numbers');
  process.exit(2);
}
const repository = resolve(process.env.SWITCHYARD_MODEL_REPOSITORY ?? join(ROOT, 'models'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = 'sy_profile_key';
const WARM_UP_S = 2;
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: an npm package, a Node built-in, a file of this repository, or a V8 category such as (garbage collector). */
function placeOf(url: string, functionName: string): string {
  if (!url) return functionName || '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
}

interface Breakdown { busyMs: number; idleMs: number; byPlace: Map<string, number>; byFunction: Map<string, number> }

/** Self time by place and by function, from the first sample whose stack holds `marker` (the first request) on. */
function breakdown(profile: CpuProfile, marker: string): Breakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const inRequest = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)?.callFrame.functionName === marker) return true;
    return false;
  };
  let first = profile.samples.findIndex(inRequest);
  if (first < 0) first = 0;
  // Then past the warm-up (lazy imports, JIT): the rest is the measured load and the drain.
  for (let skipped = 0; first < profile.samples.length && skipped < WARM_UP_S * 1e6; first++) skipped += profile.timeDeltas[first] ?? 0;
  const result: Breakdown = { busyMs: 0, idleMs: 0, byPlace: new Map(), byFunction: new Map() };
  for (let i = first; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i] as number);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      result.idleMs += ms;
      continue;
    }
    result.busyMs += ms;
    const place = placeOf(url, functionName);
    result.byPlace.set(place, (result.byPlace.get(place) ?? 0) + ms);
    const fn = `${functionName || '(anonymous)'} ${place}${url ? `:${lineNumber + 1}` : ''}`;
    result.byFunction.set(fn, (result.byFunction.get(fn) ?? 0) + ms);
  }
  return result;
}

/** The main thread's profile: the largest file a process wrote (worker threads write their own). */
async function mainProfile(dir: string): Promise<CpuProfile> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const sized = await Promise.all(files.map(async (f) => ({ f, size: (await stat(join(dir, f))).size })));
  const largest = sized.sort((a, b) => b.size - a.size)[0];
  if (!largest) throw new Error(`no .cpuprofile in ${dir}`);
  return JSON.parse(await readFile(join(dir, largest.f), 'utf8')) as CpuProfile;
}

function report(name: string, b: Breakdown, cpuMicrosPerRequest: number): void {
  console.log(`\n${name}: ${cpuMicrosPerRequest.toFixed(0)} µs CPU per request (all threads, /proc); main thread busy ${(100 * b.busyMs / (b.busyMs + b.idleMs)).toFixed(0)}% of the profiled time`);
  const share = (ms: number) => ms / b.busyMs;
  // Main-thread shares scaled by the process's CPU per request: an estimate, as other threads' CPU is in the total.
  const rows = (map: Map<string, number>, top: number) => [...map].sort((x, y) => y[1] - x[1]).slice(0, top);
  console.log('\n| where (self time) | share of busy | ≈ µs per request |\n|---|---:|---:|');
  for (const [place, ms] of rows(b.byPlace, 25)) console.log(`| ${place} | ${(100 * share(ms)).toFixed(1)}% | ${(share(ms) * cpuMicrosPerRequest).toFixed(1)} |`);
  console.log('\n| function (self time) | share of busy |\n|---|---:|');
  for (const [fn, ms] of rows(b.byFunction, 30)) console.log(`| ${fn} | ${(100 * share(ms)).toFixed(1)}% |`);
}

if (!(await hasWrk())) {
  console.error('npm run profile needs wrk (apt-get install wrk)');
  process.exit(2);
}
if (!hasSampleModels(repository)) await writeSampleRepository(repository);
const out = join(ROOT, 'bench-results', 'profiles', `${target}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
const profFlags = (name: string) => ['--cpu-prof', `--cpu-prof-dir=${join(out, name)}`];
await mkdir(out, { recursive: true });

const redisPrefix = `switchyard-profile:${randomUUID()}:`;
const worker = await startWorkerProcess({ model: 'seed-classifier', repository, versions: [1, 2], nodeFlags: profFlags('worker') });
const processes: Array<{ name: string; service: ServiceProcess; marker: string }> = [{ name: 'worker', service: worker, marker: 'inferHandler' }];
let url = `${worker.url}/v2/models/seed-classifier/versions/1/infer`;
let headers: Record<string, string> = {};
if (target === 'gateway') {
  const configPath = join(out, 'switchyard.yaml');
  await writeFile(configPath, gatewayConfig(worker.url, true, KEY));
  const gateway = await startGatewayProcess({ configPath, env: { REDIS_URL: redisUrl, SWITCHYARD_REDIS_PREFIX: redisPrefix }, nodeFlags: profFlags('gateway') });
  processes.push({ name: 'gateway', service: gateway, marker: 'proxyMiddleware' });
  url = `${gateway.url}/v2/models/seed-classifier/infer`;
  headers = { authorization: `Bearer ${KEY}`, 'x-switchyard-user': 'profile-user' };
}

try {
  await runWrk({ url, body: BODY, connections, durationS: WARM_UP_S, headers }); // warm-up
  const before = processes.map((p) => cpuSeconds(p.service.child.pid ?? 0));
  const load = await runWrk({ url, body: BODY, connections, durationS: seconds, headers });
  const used = processes.map((p, i) => cpuSeconds(p.service.child.pid ?? 0) - (before[i] ?? 0));
  console.log(`${target === 'gateway' ? 'through the gateway' : 'direct to the worker'}: ${(load.requests / load.elapsedS).toFixed(0)} requests/s, ${load.errors} errors, p50 ${load.p50Ms.toFixed(3)} ms, wrk ${connections} connections, ${seconds} s`);
  // SIGTERM: each service drains and exits, and V8 writes its profile on the way out.
  for (const p of [...processes].reverse()) await p.service.stop();
  for (const [i, p] of processes.entries()) report(p.name, breakdown(await mainProfile(join(out, p.name)), p.marker), ((used[i] ?? 0) / load.requests) * 1e6);
  console.log(`\nprofiles: ${out}`);
} finally {
  for (const p of processes) await p.service.stop();
  await deleteKeys(redisUrl, redisPrefix);
}
