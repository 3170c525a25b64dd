/**
 * Exports a {@link DenseNetwork} as an ONNX graph:
 * (Gemm → Relu)* → Gemm → Softmax, with a variable batch dimension.
 */
import type { DenseNetwork } from './dense-network.ts';
import { buildModel, ONNX_TYPE, type InitializerSpec, type NodeSpec } from './onnx-builder.ts';

export interface MlpModelOptions {
  inputName: string;
  outputName: string;
  /** Symbolic name of the batch dimension, or a number to fix it. Default `'batch'`. */
  batchDim?: string | number;
  metadata?: Record<string, string>;
}

export function mlpToOnnx(network: DenseNetwork, options: MlpModelOptions): Uint8Array {
  const { inputName, outputName, batchDim = 'batch', metadata } = options;
  const first = network.layers[0];
  const last = network.layers.at(-1);
  if (!first || !last) throw new Error('a network needs at least one layer');
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  let previous = inputName;
  network.layers.forEach((layer, index) => {
    initializers.push(
      { name: `dense${index}_weight`, dims: [layer.inputs, layer.outputs], values: layer.weights },
      { name: `dense${index}_bias`, dims: [layer.outputs], values: layer.bias },
    );
    nodes.push({ opType: 'Gemm', inputs: [previous, `dense${index}_weight`, `dense${index}_bias`], outputs: [`dense${index}`] });
    previous = `dense${index}`;
    if (layer !== last) {
      nodes.push({ opType: 'Relu', inputs: [previous], outputs: [`relu${index}`] });
      previous = `relu${index}`;
    }
  });
  nodes.push({ opType: 'Softmax', inputs: [previous], outputs: [outputName], attributes: { axis: -1 } });
  return buildModel({
    graphName: 'mlp',
    metadata,
    inputs: [{ name: inputName, elementType: ONNX_TYPE.FLOAT, shape: [batchDim, first.inputs] }],
    outputs: [{ name: outputName, elementType: ONNX_TYPE.FLOAT, shape: [batchDim, last.outputs] }],
    initializers,
    nodes,
  });
}
