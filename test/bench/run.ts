#!/usr/bin/env node
/**
 * `npm run bench [-- --only=worker|gateway]`: Switchyard's benchmarks.
 * Worker: on wide-mlp, raw in-process session.run at batch 1 and 32, and
 * the worker over HTTP with batching off and on at concurrency 1, 16 and 64;
 * on seed-classifier, worker latency at concurrency 1. Gateway: direct vs
 * through the gateway on seed-classifier. Prints tables and target ratios,
 * writes bench-results/bench.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasSampleModels, writeSampleRepository } from '@switchyard/model-worker/samples';
import { benchGateway, type GatewayRow } from './gateway-bench.ts';
import { benchWorker, type WorkerRow } from './worker-bench.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const repository = resolve(process.env.SWITCHYARD_MODEL_REPOSITORY ?? join(ROOT, 'models'));
const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { values } = parseArgs({ options: { only: { type: 'string' } } });
const sections = values.only ? [values.only] : ['worker', 'gateway'];

type Row = (WorkerRow | GatewayRow) & { section: string };
const rows: Row[] = [];
const record = (section: string) => (row: WorkerRow | GatewayRow): void => {
  rows.push({ section, ...row });
  const cpu = 'gatewayCpuSecondsPer1000' in row && row.gatewayCpuSecondsPer1000 !== undefined ? `, gateway CPU ${row.gatewayCpuSecondsPer1000.toFixed(3)} s/1000 req` : '';
  console.log(`  ${row.scenario} @${row.concurrency}: ${row.rowsPerSecond.toFixed(0)} rows/s, p50 ${row.p50Ms.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms, errors ${row.errors}${cpu}`);
};

if (!hasSampleModels(repository)) {
  console.log(`Writing sample models to ${repository} …`);
  await writeSampleRepository(repository);
}

if (sections.includes('worker')) await benchWorker(repository, durationS, record('worker'));
if (sections.includes('gateway')) {
  console.log('seed-classifier: direct vs through the gateway (auth + Redis rate limits + routing)');
  await benchGateway(repository, durationS, redisUrl, record('gateway'));
}

const find = (section: string, scenario: string, concurrency: number) => rows.find((r) => r.section === section && r.scenario === scenario && r.concurrency === concurrency);
const ratios: Record<string, number> = {};
if (sections.includes('worker')) {
  const batched = find('worker', 'worker batching on', 64)?.rowsPerSecond ?? NaN;
  ratios.batchedVsUnbatchedAt64 = batched / (find('worker', 'worker batching off', 64)?.rowsPerSecond ?? NaN);
  ratios.batchedAt64VsRawBatch32 = batched / (find('worker', 'raw session.run batch 32', 1)?.rowsPerSecond ?? NaN);
}
if (sections.includes('gateway')) {
  for (const c of [1, 32]) {
    ratios[`gatewayVsDirectThroughputAt${c}`] = (find('gateway', 'through gateway', c)?.rowsPerSecond ?? NaN) / (find('gateway', 'direct to worker', c)?.rowsPerSecond ?? NaN);
  }
  ratios.gatewayAddedP50Ms = (find('gateway', 'latency probe: gateway', 1)?.p50Ms ?? NaN) - (find('gateway', 'latency probe: direct', 1)?.p50Ms ?? NaN);
}

console.log('\n| section | scenario | concurrency | rows/s | p50 ms | p99 ms | errors | gateway CPU s / 1000 req |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const cpu = 'gatewayCpuSecondsPer1000' in r && r.gatewayCpuSecondsPer1000 !== undefined ? r.gatewayCpuSecondsPer1000.toFixed(3) : '';
  console.log(`| ${r.section} | ${r.scenario} | ${r.concurrency} | ${r.rowsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.errors} | ${cpu} |`);
}
console.log('');
const targets: Record<string, string> = {
  batchedVsUnbatchedAt64: '× (target ≥ 5×)',
  batchedAt64VsRawBatch32: '× (target ≥ 0.6×)',
  gatewayVsDirectThroughputAt1: '×',
  gatewayVsDirectThroughputAt32: '× (target ≥ 0.8×)',
  gatewayAddedP50Ms: ' ms (target ≤ 0.5 ms)',
};
for (const [name, value] of Object.entries(ratios)) console.log(`${name} = ${value.toFixed(3)}${targets[name] ?? ''}`);

const resultsDir = join(ROOT, 'bench-results');
await mkdir(resultsDir, { recursive: true });
const out = join(resultsDir, 'bench.json');
await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), durationS, rows, ratios }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
