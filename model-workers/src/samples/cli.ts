#!/usr/bin/env node
/** CLI: `npm run models [-- <repository>]` writes the sample model repository. */
import { resolve } from 'node:path';
import { writeSampleRepository } from './write-samples.ts';

const repository = resolve(process.argv[2] ?? 'models');
const summary = await writeSampleRepository(repository);
for (const { model, version, path, trainingAccuracy } of summary) {
  const accuracy = trainingAccuracy === undefined ? '' : `  training accuracy ${(trainingAccuracy * 100).toFixed(1)}%`;
  console.log(`${model} v${version} → ${path}${accuracy}`);
}
