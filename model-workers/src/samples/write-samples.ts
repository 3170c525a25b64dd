/**
 * Writes the sample model repository (Triton layout):
 * `<repo>/<model>/<version>/model.onnx` plus `<repo>/<model>/config.yaml`.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { imageStatsModel } from './image-stats-model.ts';
import { mlpToOnnx } from './mlp-model.ts';
import { CLASSIFIER_VERSIONS, trainSeedClassifier, wideMlpNetwork, type ClassifierVersion } from './sample-networks.ts';

export const SEED_CLASSIFIER = 'seed-classifier';
export const WIDE_MLP = 'wide-mlp';
export const IMAGE_STATS = 'image-stats';
export const SAMPLE_MODELS = [SEED_CLASSIFIER, WIDE_MLP, IMAGE_STATS] as const;

/** Class labels of seed-classifier's `probabilities`, index by index (its `labels.txt`). */
export const SEED_CLASSIFIER_LABELS = ['outside', 'inside'] as const;

const SEED_CLASSIFIER_CONFIG = `# seed-classifier: a point (x, y) in [-1, 1]² → probability of
# [outside, inside] a circle of radius 0.6. Trained on 100 seeded points.
max_batch_size: 64
dynamic_batching:
  max_queue_delay_microseconds: 500
  max_queue_size: 1024
execution_providers: [cpu]
threads:
  intra_op: 1
inputs:
  - name: features
    datatype: FP32
    dims: [2]
outputs:
  - name: probabilities
    datatype: FP32
    dims: [2]
    label_filename: labels.txt     # class labels for class_count (classification)
`;

const WIDE_MLP_CONFIG = `# wide-mlp: 512 → 8192 → 8192 (ReLU) → 1000 (softmax), seeded random weights.
# Compute-heavy on purpose: the model used to measure dynamic batching.
max_batch_size: 32
dynamic_batching:
  max_queue_delay_microseconds: 2000
  max_queue_size: 512
execution_providers: [cuda, cpu]
`;

const IMAGE_STATS_CONFIG = `# image-stats: FP32 image [3, 64, 64] → per-channel mean, min and max.
# Payload-heavy, compute-light: the model used to compare transports.
max_batch_size: 32
dynamic_batching:
  max_queue_delay_microseconds: 200
  max_queue_size: 1024
execution_providers: [cpu]
threads:
  intra_op: 1
`;

export interface SampleSummary {
  model: string;
  version: number;
  path: string;
  trainingAccuracy?: number;
}

async function writeVersion(repository: string, model: string, version: number, bytes: Uint8Array): Promise<string> {
  const dir = join(repository, model, String(version));
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  await writeFile(path, bytes);
  return path;
}

/** True when the repository already holds every sample model. */
export function hasSampleModels(repository: string): boolean {
  return [
    join(repository, SEED_CLASSIFIER, '2', 'model.onnx'),
    join(repository, WIDE_MLP, '1', 'model.onnx'),
    join(repository, IMAGE_STATS, '1', 'model.onnx'),
  ].every((path) => existsSync(path));
}

export interface WriteSamplesOptions {
  /** Which sample models to write. Default: all. */
  models?: ReadonlyArray<(typeof SAMPLE_MODELS)[number]>;
}

/** Generates the sample models into `repository`, overwriting what is there. */
export async function writeSampleRepository(repository: string, options: WriteSamplesOptions = {}): Promise<SampleSummary[]> {
  const { models = SAMPLE_MODELS } = options;
  const summary: SampleSummary[] = [];
  if (models.includes(SEED_CLASSIFIER)) await writeSeedClassifier(repository, summary);
  if (models.includes(WIDE_MLP)) {
    const wide = mlpToOnnx(wideMlpNetwork(), { inputName: 'input', outputName: 'probabilities' });
    summary.push({ model: WIDE_MLP, version: 1, path: await writeVersion(repository, WIDE_MLP, 1, wide) });
    await writeFile(join(repository, WIDE_MLP, 'config.yaml'), WIDE_MLP_CONFIG);
  }
  if (models.includes(IMAGE_STATS)) {
    summary.push({ model: IMAGE_STATS, version: 1, path: await writeVersion(repository, IMAGE_STATS, 1, imageStatsModel()) });
    await writeFile(join(repository, IMAGE_STATS, 'config.yaml'), IMAGE_STATS_CONFIG);
  }
  return summary;
}

async function writeSeedClassifier(repository: string, summary: SampleSummary[]): Promise<void> {
  for (const version of Object.keys(CLASSIFIER_VERSIONS).map(Number) as ClassifierVersion[]) {
    const { network, accuracy, loss } = trainSeedClassifier(version);
    const bytes = mlpToOnnx(network, {
      inputName: 'features',
      outputName: 'probabilities',
      metadata: { training_accuracy: accuracy.toFixed(4), training_loss: loss.toFixed(4) },
    });
    const path = await writeVersion(repository, SEED_CLASSIFIER, version, bytes);
    summary.push({ model: SEED_CLASSIFIER, version, path, trainingAccuracy: accuracy });
  }
  await writeFile(join(repository, SEED_CLASSIFIER, 'config.yaml'), SEED_CLASSIFIER_CONFIG);
  await writeFile(join(repository, SEED_CLASSIFIER, 'labels.txt'), `${SEED_CLASSIFIER_LABELS.join('\n')}\n`);
}
