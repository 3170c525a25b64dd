/**
 * Derives a model version's protocol signature from ONNX Runtime's metadata
 * and the config's overrides, and refuses models the config cannot serve
 * (e.g. batching declared on a fixed first dimension).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { datatypeOfOrtType } from '../protocol/datatypes.ts';
import { formatShape, VARIABLE_DIM, type ModelSignature, type TensorSpec } from '../protocol/tensor-spec.ts';
import type { TensorOverride } from './model-config.ts';

export class SignatureError extends Error {
  override name = 'SignatureError';
}

function specOf(meta: InferenceSession.ValueMetadata, role: 'input' | 'output'): TensorSpec {
  if (!meta.isTensor) throw new SignatureError(`${role} '${meta.name}' is not a tensor; only tensor inputs and outputs can be served`);
  const datatype = datatypeOfOrtType(meta.type);
  if (!datatype) throw new SignatureError(`${role} '${meta.name}' has element type ${meta.type}, which the protocol cannot carry`);
  return { name: meta.name, datatype, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : VARIABLE_DIM)) };
}

function applyOverride(spec: TensorSpec, override: TensorOverride | undefined, batching: boolean, role: string): TensorSpec {
  if (!override) return spec;
  if (override.datatype && override.datatype !== spec.datatype) {
    throw new SignatureError(`config ${role} '${spec.name}' says ${override.datatype}, the model says ${spec.datatype}`);
  }
  if (!override.dims) return spec;
  const modelDims = batching ? spec.shape.slice(1) : spec.shape;
  if (override.dims.length !== modelDims.length) {
    throw new SignatureError(`config ${role} '${spec.name}' dims ${formatShape(override.dims)} have rank ${override.dims.length}, the model's ${formatShape(modelDims)} have rank ${modelDims.length}${batching ? ' (dims exclude the batch dimension)' : ''}`);
  }
  const dims = override.dims.map((dim, i) => {
    const modelDim = modelDims[i] ?? VARIABLE_DIM;
    if (modelDim !== VARIABLE_DIM && dim !== VARIABLE_DIM && dim !== modelDim) {
      throw new SignatureError(`config ${role} '${spec.name}' dims ${formatShape(override.dims ?? [])} contradict the model's ${formatShape(modelDims)}`);
    }
    return modelDim === VARIABLE_DIM ? dim : modelDim;
  });
  return { ...spec, shape: batching ? [VARIABLE_DIM, ...dims] : dims };
}

function checkBatchDim(spec: TensorSpec, role: string, maxBatchSize: number): void {
  const first = spec.shape[0];
  if (first === undefined) {
    throw new SignatureError(`config sets max_batch_size ${maxBatchSize} but ${role} '${spec.name}' is a scalar with no batch dimension; set max_batch_size: 0`);
  }
  if (first !== VARIABLE_DIM) {
    throw new SignatureError(
      `config sets max_batch_size ${maxBatchSize} but ${role} '${spec.name}' has a fixed first dimension of ${first} ${formatShape(spec.shape)}. ` +
        `Re-export the model with a dynamic batch axis (e.g. torch.onnx.export(..., dynamic_axes={'${spec.name}': {0: 'batch'}})), or set max_batch_size: 0 to serve it unbatched`,
    );
  }
}

export function deriveSignature(
  session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>,
  config: { max_batch_size: number; inputs?: TensorOverride[] | undefined; outputs?: TensorOverride[] | undefined },
): ModelSignature {
  const maxBatchSize = config.max_batch_size;
  const batching = maxBatchSize > 0;
  const build = (metas: readonly InferenceSession.ValueMetadata[], overrides: TensorOverride[] = [], role: 'input' | 'output'): TensorSpec[] => {
    const names = new Set(metas.map((m) => m.name));
    for (const o of overrides) if (!names.has(o.name)) throw new SignatureError(`config names ${role} '${o.name}', which the model does not have (it has ${[...names].map((n) => `'${n}'`).join(', ')})`);
    return metas.map((meta) => {
      const spec = specOf(meta, role);
      if (batching) checkBatchDim(spec, role, maxBatchSize);
      return applyOverride(spec, overrides.find((o) => o.name === meta.name), batching, role);
    });
  };
  return { inputs: build(session.inputMetadata, config.inputs, 'input'), outputs: build(session.outputMetadata, config.outputs, 'output'), maxBatchSize };
}
