/**
 * The worker benchmark: raw in-process session.run on wide-mlp at batch 1
 * and 32, the worker over HTTP with batching off and on at concurrency 1,
 * 16 and 64, and seed-classifier latency at concurrency 1.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorkerProcess } from '@switchyard/fleet/worker-process';
import { measureHttp } from './http-load.ts';
import type { Measurement } from './measurement.ts';
import { measureRawSession } from './raw-session.ts';

export interface WorkerRow extends Measurement {
  scenario: string;
  concurrency: number;
}

export async function benchWorker(repository: string, durationS: number, record: (row: WorkerRow) => void): Promise<void> {
  const widePath = join(repository, 'wide-mlp', '1', 'model.onnx');
  const wideBody = JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 512], data: Array.from({ length: 512 }, (_, i) => Math.round(Math.sin(i) * 1e4) / 1e4) }],
  });

  console.log('wide-mlp: raw session.run (in-process)');
  for (const batch of [1, 32]) {
    record({ scenario: `raw session.run batch ${batch}`, concurrency: 1, ...(await measureRawSession(widePath, 'input', 512, batch, durationS * 1000)) });
  }

  // Batching off: the same model file, configured with max_batch_size 0.
  const unbatchedRepo = await mkdtemp(join(tmpdir(), 'switchyard-bench-'));
  await mkdir(join(unbatchedRepo, 'wide-mlp', '1'), { recursive: true });
  await symlink(widePath, join(unbatchedRepo, 'wide-mlp', '1', 'model.onnx'));
  await writeFile(join(unbatchedRepo, 'wide-mlp', 'config.yaml'), 'max_batch_size: 0\ndynamic_batching:\n  max_queue_size: 512\n');
  try {
    for (const [label, repo] of [['worker batching off', unbatchedRepo], ['worker batching on', repository]] as const) {
      console.log(`wide-mlp: ${label}`);
      const worker = await startWorkerProcess({ model: 'wide-mlp', repository: repo, env: { LOG_LEVEL: 'warn' } });
      try {
        for (const connections of [1, 16, 64]) {
          record({ scenario: label, concurrency: connections, ...(await measureHttp({ url: `${worker.url}/v2/models/wide-mlp/infer`, body: wideBody, connections, durationS, rowsPerRequest: 1 })) });
        }
      } finally {
        await worker.stop();
      }
    }
  } finally {
    await rm(unbatchedRepo, { recursive: true, force: true });
  }

  console.log('seed-classifier: worker');
  const seed = await startWorkerProcess({ model: 'seed-classifier', repository, env: { LOG_LEVEL: 'warn' } });
  try {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });
    record({ scenario: 'seed-classifier worker', concurrency: 1, ...(await measureHttp({ url: `${seed.url}/v2/models/seed-classifier/infer`, body, connections: 1, durationS, rowsPerRequest: 1 })) });
  } finally {
    await seed.stop();
  }
}
