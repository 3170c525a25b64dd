/**
 * Serialises infer responses. Tensor data is written straight from typed
 * storage into the JSON text, without building intermediate arrays.
 */
import type { Datatype, TensorStorage } from './datatypes.ts';
import { fromHalfBits } from './half-float.ts';

export interface ResponseTensor {
  name: string;
  datatype: Datatype;
  shape: readonly number[];
  data: TensorStorage;
}

/** Row-major data as a JSON array text. NaN and ±Infinity become null, as JSON.stringify does. */
export function tensorDataJson(datatype: Datatype, data: TensorStorage): string {
  switch (datatype) {
    case 'BYTES':
      return JSON.stringify(data);
    case 'BOOL':
      return JSON.stringify(Array.from(data as Uint8Array, (v) => v !== 0));
    case 'FP16':
      return JSON.stringify(Array.from(data as Uint16Array, fromHalfBits));
    case 'FP32':
    case 'FP64': {
      const values = data as Float32Array;
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) return JSON.stringify(Array.from(values));
      }
      return `[${values.join(',')}]`;
    }
    default:
      // Integers, including 64-bit ones, print exactly.
      return `[${(data as Int32Array).join(',')}]`;
  }
}

export function tensorJson({ name, datatype, shape, data }: ResponseTensor): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${shape.join(',')}],"data":${tensorDataJson(datatype, data)}}`;
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs: readonly ResponseTensor[];
}

export function encodeInferResponse({ modelName, modelVersion, id, outputs }: InferResponse): string {
  const idPart = id === undefined ? '' : `,"id":${JSON.stringify(id)}`;
  return `{"model_name":${JSON.stringify(modelName)},"model_version":"${modelVersion}"${idPart},"outputs":[${outputs.map(tensorJson).join(',')}]}`;
}
