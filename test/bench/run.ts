#!/usr/bin/env node
/**
 * `npm run bench`: the worker benchmark. On wide-mlp: raw in-process
 * session.run at batch 1 and 32, and the worker over HTTP with batching off
 * and on at concurrency 1, 16 and 64; on seed-classifier: worker latency at
 * concurrency 1. Prints a table and the target ratios, writes JSON.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startWorkerProcess } from '@switchyard/gateway/fleet/worker-process';
import { hasSampleModels, writeSampleRepository } from '@switchyard/model-worker/samples';
import { measureHttp } from './http-load.ts';
import type { Measurement } from './measurement.ts';
import { measureRawSession } from './raw-session.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const repository = resolve(process.env.SWITCHYARD_MODEL_REPOSITORY ?? join(ROOT, 'models'));
const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const resultsDir = join(ROOT, 'bench-results');

interface Row extends Measurement {
  scenario: string;
  concurrency: number;
}

const rows: Row[] = [];
function record(scenario: string, concurrency: number, m: Measurement): void {
  rows.push({ scenario, concurrency, ...m });
  console.log(`  ${scenario} @${concurrency}: ${m.rowsPerSecond.toFixed(0)} rows/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, errors ${m.errors}`);
}

if (!hasSampleModels(repository)) {
  console.log(`Writing sample models to ${repository} …`);
  await writeSampleRepository(repository);
}

const widePath = join(repository, 'wide-mlp', '1', 'model.onnx');
const wideBody = JSON.stringify({
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 512], data: Array.from({ length: 512 }, (_, i) => Math.round(Math.sin(i) * 1e4) / 1e4) }],
});

console.log('wide-mlp: raw session.run (in-process)');
for (const batch of [1, 32]) record(`raw session.run batch ${batch}`, 1, await measureRawSession(widePath, 'input', 512, batch, durationS * 1000));

// Batching off: the same model file, configured with max_batch_size 0.
const unbatchedRepo = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
await mkdir(join(unbatchedRepo, 'wide-mlp', '1'), { recursive: true });
await symlink(widePath, join(unbatchedRepo, 'wide-mlp', '1', 'model.onnx'));
await writeFile(join(unbatchedRepo, 'wide-mlp', 'config.yaml'), 'max_batch_size: 0\ndynamic_batching:\n  max_queue_size: 512\n');

for (const [label, repo] of [['worker batching off', unbatchedRepo], ['worker batching on', repository]] as const) {
  console.log(`wide-mlp: ${label}`);
  const worker = await startWorkerProcess({ model: 'wide-mlp', repository: repo, env: { LOG_LEVEL: 'warn' } });
  try {
    for (const connections of [1, 16, 64]) {
      record(label, connections, await measureHttp({ url: `${worker.url}/v2/models/wide-mlp/infer`, body: wideBody, connections, durationS, rowsPerRequest: 1 }));
    }
  } finally {
    await worker.stop();
  }
}
await rm(unbatchedRepo, { recursive: true, force: true });

console.log('seed-classifier: worker');
const seed = await startWorkerProcess({ model: 'seed-classifier', repository, env: { LOG_LEVEL: 'warn' } });
try {
  const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });
  record('seed-classifier worker', 1, await measureHttp({ url: `${seed.url}/v2/models/seed-classifier/infer`, body, connections: 1, durationS, rowsPerRequest: 1 }));
} finally {
  await seed.stop();
}

const find = (scenario: string, concurrency: number): Row | undefined => rows.find((r) => r.scenario === scenario && r.concurrency === concurrency);
const batched64 = find('worker batching on', 64)?.rowsPerSecond ?? NaN;
const unbatched64 = find('worker batching off', 64)?.rowsPerSecond ?? NaN;
const raw32 = find('raw session.run batch 32', 1)?.rowsPerSecond ?? NaN;
const ratios = {
  batchedVsUnbatchedAt64: batched64 / unbatched64,
  batchedAt64VsRawBatch32: batched64 / raw32,
};

console.log('\n| scenario | concurrency | rows/s | p50 ms | p99 ms | errors |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.scenario} | ${r.concurrency} | ${r.rowsPerSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`);
}
console.log(`\nbatched @64 ÷ unbatched @64 = ${ratios.batchedVsUnbatchedAt64.toFixed(2)}× (target ≥ 5×)`);
console.log(`batched @64 ÷ raw session.run batch 32 = ${ratios.batchedAt64VsRawBatch32.toFixed(2)}× (target ≥ 0.6×)`);

await mkdir(resultsDir, { recursive: true });
const out = join(resultsDir, 'worker.json');
await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), durationS, rows, ratios }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
