/**
 * Small generated models for tests: one that echoes a tensor of every
 * protocol datatype, and the sample classifier with a fixed batch
 * dimension (which a batching config must refuse).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATATYPES, type Datatype } from '../protocol/datatypes.ts';
import { mlpToOnnx } from '../samples/mlp-model.ts';
import { buildModel, ONNX_TYPE, type OnnxElementType } from '../samples/onnx-builder.ts';
import { trainSeedClassifier } from '../samples/sample-networks.ts';

const ONNX_TYPE_OF: Record<Datatype, OnnxElementType> = {
  BOOL: ONNX_TYPE.BOOL, UINT8: ONNX_TYPE.UINT8, UINT16: ONNX_TYPE.UINT16, UINT32: ONNX_TYPE.UINT32, UINT64: ONNX_TYPE.UINT64,
  INT8: ONNX_TYPE.INT8, INT16: ONNX_TYPE.INT16, INT32: ONNX_TYPE.INT32, INT64: ONNX_TYPE.INT64,
  FP16: ONNX_TYPE.FLOAT16, FP32: ONNX_TYPE.FLOAT, FP64: ONNX_TYPE.DOUBLE, BYTES: ONNX_TYPE.STRING,
};

/** Input `in_<type>` [batch, 2] → Identity → output `out_<type>`, for every datatype. */
export function typedEchoModel(): Uint8Array {
  const names = DATATYPES.map((d) => d.toLowerCase());
  return buildModel({
    graphName: 'typed_echo',
    inputs: DATATYPES.map((d, i) => ({ name: `in_${names[i]}`, elementType: ONNX_TYPE_OF[d], shape: ['batch', 2] })),
    outputs: DATATYPES.map((d, i) => ({ name: `out_${names[i]}`, elementType: ONNX_TYPE_OF[d], shape: ['batch', 2] })),
    nodes: DATATYPES.map((_, i) => ({ opType: 'Identity', inputs: [`in_${names[i]}`], outputs: [`out_${names[i]}`] })),
  });
}

async function writeModel(repository: string, model: string, version: number, bytes: Uint8Array, config?: string): Promise<void> {
  await mkdir(join(repository, model, String(version)), { recursive: true });
  await writeFile(join(repository, model, String(version), 'model.onnx'), bytes);
  if (config !== undefined) await writeFile(join(repository, model, 'config.yaml'), config);
}

/** Writes `typed-echo` (batching, max 8) into `repository`. */
export async function writeTypedEcho(repository: string): Promise<void> {
  await writeModel(repository, 'typed-echo', 1, typedEchoModel(), 'max_batch_size: 8\ndynamic_batching:\n  max_queue_delay_microseconds: 200\n');
}

/** Writes `fixed-batch`: the classifier exported with batch dimension 1, configured to batch. */
export async function writeFixedBatch(repository: string): Promise<void> {
  const { network } = trainSeedClassifier(1);
  await writeModel(repository, 'fixed-batch', 1, mlpToOnnx(network, { inputName: 'features', outputName: 'probabilities', batchDim: 1 }), 'max_batch_size: 4\n');
}
