/**
 * Trains the two-feature binary classifier behind the `seed-classifier`
 * sample model: 2 inputs → N hidden units (ReLU) → 2 outputs (softmax),
 * fitted with backpropagation and cross-entropy loss on a seeded dataset.
 */
import { denseForward, predict, relu, softmax, type DenseLayer, type DenseNetwork } from './dense-network.ts';
import { seededNormal, seededUniform } from './seeded-random.ts';

export interface LabelledPoint {
  features: [number, number];
  label: 0 | 1;
}

/**
 * A seeded dataset of points in [-1, 1]²: class 1 inside a circle of radius
 * 0.6 around the origin, class 0 outside. Not linearly separable, so the
 * hidden layer is doing real work.
 */
export function circleDataset(size: number, seed: number): LabelledPoint[] {
  const uniform = seededUniform(seed);
  const points: LabelledPoint[] = [];
  for (let i = 0; i < size; i++) {
    const x = uniform() * 2 - 1;
    const y = uniform() * 2 - 1;
    points.push({ features: [x, y], label: x * x + y * y < 0.36 ? 1 : 0 });
  }
  return points;
}

export interface TrainingOptions {
  hiddenUnits: number;
  epochs: number;
  /** Step size of gradient descent. Default 0.1. */
  learningRate?: number;
  seed: number;
}

export interface TrainingResult {
  network: DenseNetwork;
  accuracy: number;
  loss: number;
}

function initLayer(inputs: number, outputs: number, normal: () => number): DenseLayer {
  const scale = Math.sqrt(2 / inputs);
  const weights = new Float32Array(inputs * outputs);
  for (let i = 0; i < weights.length; i++) weights[i] = normal() * scale;
  return { inputs, outputs, weights, bias: new Float32Array(outputs) };
}

/** Full-batch gradient descent on mean cross-entropy. */
export function trainClassifier(data: readonly LabelledPoint[], options: TrainingOptions): TrainingResult {
  const { hiddenUnits, epochs, learningRate = 0.1, seed } = options;
  const normal = seededNormal(seed);
  const hidden = initLayer(2, hiddenUnits, normal);
  const output = initLayer(hiddenUnits, 2, normal);
  const network: DenseNetwork = { layers: [hidden, output] };

  for (let epoch = 0; epoch < epochs; epoch++) {
    const gradHiddenW = new Float64Array(hidden.weights.length);
    const gradHiddenB = new Float64Array(hidden.bias.length);
    const gradOutW = new Float64Array(output.weights.length);
    const gradOutB = new Float64Array(output.bias.length);
    for (const { features, label } of data) {
      const preActivation = denseForward(hidden, features);
      const activation = relu(preActivation);
      const probabilities = softmax(denseForward(output, activation));
      // d(loss)/d(logits) for softmax + cross-entropy is p - onehot.
      const dLogits = [(probabilities[0] ?? 0) - (label === 0 ? 1 : 0), (probabilities[1] ?? 0) - (label === 1 ? 1 : 0)];
      for (let h = 0; h < hiddenUnits; h++) {
        const a = activation[h] ?? 0;
        let dActivation = 0;
        for (let k = 0; k < 2; k++) {
          const d = dLogits[k] ?? 0;
          gradOutW[h * 2 + k] = (gradOutW[h * 2 + k] ?? 0) + a * d;
          dActivation += (output.weights[h * 2 + k] ?? 0) * d;
        }
        if ((preActivation[h] ?? 0) <= 0) continue;
        gradHiddenB[h] = (gradHiddenB[h] ?? 0) + dActivation;
        for (let i = 0; i < 2; i++) {
          gradHiddenW[i * hiddenUnits + h] = (gradHiddenW[i * hiddenUnits + h] ?? 0) + (features[i] ?? 0) * dActivation;
        }
      }
      for (let k = 0; k < 2; k++) gradOutB[k] = (gradOutB[k] ?? 0) + (dLogits[k] ?? 0);
    }
    const step = learningRate / data.length;
    applyGradient(hidden.weights, gradHiddenW, step);
    applyGradient(hidden.bias, gradHiddenB, step);
    applyGradient(output.weights, gradOutW, step);
    applyGradient(output.bias, gradOutB, step);
  }

  return { network, ...evaluate(network, data) };
}

function applyGradient(params: Float32Array, gradient: Float64Array, step: number): void {
  for (let i = 0; i < params.length; i++) params[i] = (params[i] ?? 0) - step * (gradient[i] ?? 0);
}

/** Accuracy and mean cross-entropy of a network on a dataset. */
export function evaluate(network: DenseNetwork, data: readonly LabelledPoint[]): { accuracy: number; loss: number } {
  let correct = 0;
  let loss = 0;
  for (const { features, label } of data) {
    const p = predict(network, features);
    const predicted = (p[1] ?? 0) > (p[0] ?? 0) ? 1 : 0;
    if (predicted === label) correct++;
    loss -= Math.log(Math.max(p[label] ?? 0, 1e-12));
  }
  return { accuracy: correct / data.length, loss: loss / data.length };
}
