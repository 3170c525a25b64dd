/**
 * The networks behind the sample models, built deterministically so tests
 * can recompute the same weights and check ONNX Runtime against them.
 */
import type { DenseLayer, DenseNetwork } from './dense-network.ts';
import { seededUniform } from './seeded-random.ts';
import { circleDataset, trainClassifier, type TrainingResult } from './train-classifier.ts';

export const CLASSIFIER_DATASET_SIZE = 100;
export const CLASSIFIER_DATASET_SEED = 7;

/** Training settings of each `seed-classifier` version. */
export const CLASSIFIER_VERSIONS = {
  1: { hiddenUnits: 10, epochs: 600, learningRate: 0.2, seed: 42 },
  2: { hiddenUnits: 16, epochs: 4000, learningRate: 0.5, seed: 43 },
} as const;

export type ClassifierVersion = keyof typeof CLASSIFIER_VERSIONS;

export function trainSeedClassifier(version: ClassifierVersion): TrainingResult {
  const data = circleDataset(CLASSIFIER_DATASET_SIZE, CLASSIFIER_DATASET_SEED);
  return trainClassifier(data, CLASSIFIER_VERSIONS[version]);
}

/**
 * Layer widths of `wide-mlp`. Two 8192-wide hidden layers put ~300 MB of
 * weights beyond the CPU caches, so a batch of one is memory-bound and
 * batching pays off the way it does for real models.
 */
export const WIDE_MLP_WIDTHS = [512, 8192, 8192, 1000] as const;

/** He-uniform initialisation: cheap to generate, variance 2 / fan-in. */
function randomLayer(inputs: number, outputs: number, uniform: () => number): DenseLayer {
  const limit = Math.sqrt(6 / inputs);
  const weights = new Float32Array(inputs * outputs);
  for (let i = 0; i < weights.length; i++) weights[i] = (uniform() * 2 - 1) * limit;
  const bias = new Float32Array(outputs);
  for (let i = 0; i < outputs; i++) bias[i] = (uniform() * 2 - 1) * 0.01;
  return { inputs, outputs, weights, bias };
}

/** `wide-mlp`: 512 → 8192 → 8192 (ReLU) → 1000 (softmax), seeded random weights. */
export function wideMlpNetwork(seed = 2024): DenseNetwork {
  const uniform = seededUniform(seed);
  const layers: DenseLayer[] = [];
  for (let i = 0; i + 1 < WIDE_MLP_WIDTHS.length; i++) {
    layers.push(randomLayer(WIDE_MLP_WIDTHS[i] ?? 0, WIDE_MLP_WIDTHS[i + 1] ?? 0, uniform));
  }
  return { layers };
}
