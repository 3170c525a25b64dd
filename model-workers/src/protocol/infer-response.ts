/**
 * Serialises infer responses. Tensor data is written straight from typed
 * storage into the JSON text, without building intermediate arrays; outputs
 * the client asked for in binary go after the JSON header as raw bytes
 * (binary tensor extension).
 *
 * JSON has no NaN or infinities, and the protocol's tensor data does not
 * allow null, so non-finite FP16/FP32/FP64 elements are written as the
 * strings "NaN", "Infinity" and "-Infinity" (the encoding protobuf's JSON
 * mapping uses for floats). Binary outputs carry the IEEE values unchanged.
 */
import { joinBinaryBody } from './binary-body.ts';
import type { Datatype, TensorStorage } from './datatypes.ts';
import { fromHalfBits } from './half-float.ts';
import { encodeRawTensor } from './raw-tensor.ts';

export interface ResponseTensor {
  name: string;
  datatype: Datatype;
  shape: readonly number[];
  data: TensorStorage;
  /** Send as raw bytes after the JSON header. Default false. */
  binary?: boolean;
}

function floatJson(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
}

function floatsJson(values: ArrayLike<number>, map: (v: number) => number = (v) => v): string {
  let text = '[';
  for (let i = 0; i < values.length; i++) text += (i ? ',' : '') + floatJson(map(values[i] as number));
  return `${text}]`;
}

/** Row-major data as a JSON array text; non-finite floats as strings (see above). */
export function tensorDataJson(datatype: Datatype, data: TensorStorage): string {
  switch (datatype) {
    case 'BYTES':
      return JSON.stringify(data);
    case 'BOOL':
      return JSON.stringify(Array.from(data as Uint8Array, (v) => v !== 0));
    case 'FP16':
      return floatsJson(data as Uint16Array, fromHalfBits);
    case 'FP32':
    case 'FP64': {
      const values = data as Float32Array;
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) return floatsJson(values);
      }
      return `[${values.join(',')}]`;
    }
    default:
      // Integers, including 64-bit ones, print exactly.
      return `[${(data as Int32Array).join(',')}]`;
  }
}

function tensorHead({ name, datatype, shape }: ResponseTensor): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${shape.join(',')}]`;
}

export function tensorJson(tensor: ResponseTensor): string {
  return `${tensorHead(tensor)},"data":${tensorDataJson(tensor.datatype, tensor.data)}}`;
}

export interface InferResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  outputs: readonly ResponseTensor[];
}

export interface EncodedResponse {
  body: string | Uint8Array<ArrayBuffer>;
  /** Set when some output is binary: the length of the JSON header in `body`. */
  headerLength?: number;
}

export function encodeInferResponse({ modelName, modelVersion, id, outputs }: InferResponse): EncodedResponse {
  const idPart = id === undefined ? '' : `,"id":${JSON.stringify(id)}`;
  const head = `{"model_name":${JSON.stringify(modelName)},"model_version":"${modelVersion}"${idPart},"outputs":[`;
  if (!outputs.some((o) => o.binary)) return { body: `${head}${outputs.map(tensorJson).join(',')}]}` };
  const chunks: Uint8Array[] = [];
  const entries = outputs.map((o) => {
    if (!o.binary) return tensorJson(o);
    const raw = encodeRawTensor(o.datatype, o.data);
    chunks.push(raw);
    return `${tensorHead(o)},"parameters":{"binary_data_size":${raw.byteLength}}}`;
  });
  return joinBinaryBody(`${head}${entries.join(',')}]}`, chunks);
}
