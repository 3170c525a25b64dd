/**
 * A fully connected network (dense → ReLU → … → dense → softmax) in plain
 * TypeScript: used to train the sample classifier and as the reference the
 * tests compare ONNX Runtime's outputs against.
 */

/** Weights of one dense layer; `weights` is row-major [inputs, outputs]. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float32Array;
  bias: Float32Array;
}

/** Dense layers applied in order, ReLU between them, softmax after the last. */
export interface DenseNetwork {
  layers: readonly DenseLayer[];
}

/** y = x·W + b for one row. */
export function denseForward(layer: DenseLayer, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(layer.outputs);
  for (let j = 0; j < layer.outputs; j++) y[j] = layer.bias[j] ?? 0;
  for (let i = 0; i < layer.inputs; i++) {
    const xi = x[i] ?? 0;
    if (xi === 0) continue;
    const rowOffset = i * layer.outputs;
    for (let j = 0; j < layer.outputs; j++) {
      y[j] = (y[j] ?? 0) + xi * (layer.weights[rowOffset + j] ?? 0);
    }
  }
  return y;
}

export function relu(values: Float64Array): Float64Array {
  return values.map((v) => (v > 0 ? v : 0));
}

/** Numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] ?? -Infinity);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] ?? 0) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / sum;
  return out;
}

/** Class probabilities for one input row. */
export function predict(network: DenseNetwork, x: ArrayLike<number>): Float64Array {
  let activation: ArrayLike<number> = x;
  network.layers.forEach((layer, index) => {
    const linear = denseForward(layer, activation);
    activation = index === network.layers.length - 1 ? linear : relu(linear);
  });
  return softmax(activation);
}
