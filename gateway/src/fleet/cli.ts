#!/usr/bin/env node
/**
 * `npm start`: runs the local fleet on this machine. Writes the sample
 * models when the repository is empty, starts one worker process per model,
 * prints where each listens, and stops them all gracefully on Ctrl-C or
 * SIGTERM.
 */
import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { hasSampleModels, writeSampleRepository } from '@switchyard/model-worker/samples';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

const repository = resolve(process.env.SWITCHYARD_MODEL_REPOSITORY ?? 'models');
const basePort = Number(process.env.SWITCHYARD_BASE_PORT ?? 8001);
const host = process.env.HOST ?? '127.0.0.1';

async function modelsIn(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
}

if ((await modelsIn(repository)).length === 0 || (repository === resolve('models') && !hasSampleModels(repository))) {
  console.log(`Writing sample models to ${repository} …`);
  for (const { model, version, trainingAccuracy } of await writeSampleRepository(repository)) {
    const accuracy = trainingAccuracy === undefined ? '' : ` (training accuracy ${(trainingAccuracy * 100).toFixed(1)}%)`;
    console.log(`  ${model} v${version}${accuracy}`);
  }
}

const models = await modelsIn(repository);
const workers: WorkerProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  const codes = await Promise.all(workers.map((w) => w.stop('SIGTERM')));
  process.exit(code || (codes.some((c) => c !== 0) ? 1 : 0));
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const started = await Promise.all(
    models.map((model, i) =>
      startWorkerProcess({
        model,
        repository,
        port: basePort + i,
        host,
        env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
        onLine: (line) => process.stdout.write(`[${model}] ${line}\n`),
      }),
    ),
  );
  workers.push(...started);
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  await stopAll(1);
}

for (const worker of workers) {
  worker.child.once('exit', (code) => {
    if (stopping) return;
    console.error(`switchyard: worker for '${worker.model}' exited unexpectedly (code ${code}); stopping the fleet`);
    void stopAll(1);
  });
}

console.log('\nSwitchyard fleet is running:');
for (const w of workers) console.log(`  ${w.model.padEnd(18)} ${w.url}/v2/models/${w.model}`);
console.log(`\nTry:\n  curl -s ${workers[0]?.url ?? 'http://127.0.0.1:8001'}/v2/models/${workers[0]?.model ?? 'seed-classifier'}\nPress Ctrl-C to stop.`);
