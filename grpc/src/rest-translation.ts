/**
 * Each gRPC call as the equivalent v2 REST call (method, path, JSON body)
 * and each REST answer back as the gRPC reply. The service behind the REST
 * form (worker or gateway) makes every decision; this module only moves
 * fields between the two encodings.
 */
import { isSafeNumber, parse as parseLossless } from 'lossless-json';
import { checkRawSize, contentsToJsonData, flattenJsonData, rawToJsonData, TensorCodecError, valuesToRaw } from './tensor-codec.ts';
import type {
  InferParameter, InferParameters, ModelInferRequest, ModelInferResponse, ModelMetadataResponse, ModelRef, ServerMetadataResponse, TensorMetadata,
} from './messages.ts';

export interface RestCall {
  method: 'GET' | 'POST';
  path: string;
  body?: string | Uint8Array<ArrayBuffer>;
  /** Extra request headers (content type, `Inference-Header-Content-Length`). */
  headers?: Record<string, string>;
}

/**
 * How ModelInfer tensors travel to the service: `json` as `data` arrays;
 * `binary` in Triton's binary tensor extension (a JSON header, then the raw
 * input bytes unchanged, outputs asked for in binary too).
 */
export type TensorBody = 'json' | 'binary';

/** The header of Triton's binary tensor extension: the JSON part's byte length. */
export const INFERENCE_HEADER_LENGTH = 'inference-header-content-length';

const encoder = new TextEncoder();

/** `/v2/models/{name}[/versions/{version}]`. @throws TensorCodecError without a name. */
export function modelPath(name: string, version: string | undefined): string {
  if (!name) throw new TensorCodecError('model name is required');
  const base = `/v2/models/${encodeURIComponent(name)}`;
  return version ? `${base}/versions/${encodeURIComponent(version)}` : base;
}

export const modelMetadataCall = ({ name, version }: ModelRef): RestCall => ({ method: 'GET', path: modelPath(name, version) });
export const modelReadyCall = ({ name, version }: ModelRef): RestCall => ({ method: 'GET', path: `${modelPath(name, version)}/ready` });

function parameterValue(parameter: InferParameter): unknown {
  switch (parameter.parameter_choice) {
    case 'bool_param': return parameter.bool_param;
    case 'string_param': return parameter.string_param;
    case 'double_param': return parameter.double_param;
    case 'int64_param':
    case 'uint64_param': {
      const text = String(parameter[parameter.parameter_choice] ?? '0');
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : text;
    }
    default: return undefined;
  }
}

function parametersJson(parameters: InferParameters | undefined): Record<string, unknown> | undefined {
  if (!parameters) return undefined;
  const entries = Object.entries(parameters);
  if (entries.length === 0) return undefined;
  // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
  return Object.fromEntries(entries.map(([key, parameter]) => [key, parameterValue(parameter)]));
}

function toParameter(value: unknown): InferParameter | undefined {
  if (typeof value === 'boolean') return { bool_param: value };
  if (typeof value === 'string') return { string_param: value };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { int64_param: value } : { double_param: value };
  return undefined;
}

function fromParametersJson(json: unknown): InferParameters {
  if (json === null || typeof json !== 'object') return {};
  return Object.fromEntries(Object.entries(json).flatMap(([key, value]) => {
    const parameter = toParameter(value);
    return parameter ? [[key, parameter]] : [];
  }));
}

function readShape(inputName: string, shape: ReadonlyArray<string | number>): { shape: number[]; count: number } {
  let count = 1;
  const dims = shape.map((dim) => {
    const value = Number(dim);
    // Only the transport needs a finite count here; the service judges the shape itself.
    if (!Number.isSafeInteger(value)) throw new TensorCodecError(`input '${inputName}': shape dimension ${String(dim)} is out of range`);
    count *= Math.max(value, 0);
    return value;
  });
  return { shape: dims, count };
}

/**
 * The REST form of ModelInfer: `POST /v2/models/{m}[/versions/{v}]/infer`
 * with a JSON body; raw or typed contents become flat `data` arrays.
 * @throws TensorCodecError for a request the JSON form cannot carry.
 */
export function modelInferCall(request: ModelInferRequest, tensorBody: TensorBody = 'json'): RestCall {
  const binary = tensorBody === 'binary';
  const chunks: Uint8Array[] = [];
  const raw = request.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== request.inputs.length) {
    throw new TensorCodecError(`raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs; give one per input or none`);
  }
  const inputs = request.inputs.map((input, i) => {
    const { shape, count } = readShape(input.name, input.shape);
    const bytes = raw[i];
    if (bytes !== undefined && Object.values(input.contents ?? {}).some((v) => Array.isArray(v) && v.length > 0)) {
      throw new TensorCodecError(`input '${input.name}': give its elements in raw_input_contents or in contents, not both`);
    }
    const parameters = parametersJson(input.parameters);
    if (binary && bytes !== undefined) {
      // Raw bytes pass through untouched. Their size is checked here, so a gRPC caller reads about
      // raw contents (what it sent), not about the binary_data_size this translation adds.
      checkRawSize(input.name, input.datatype, count, bytes);
      chunks.push(bytes);
      return { name: input.name, shape, datatype: input.datatype, parameters: { ...parameters, binary_data_size: bytes.byteLength } };
    }
    // Typed contents travel as JSON `data`, so the service checks every element's range.
    const data = bytes === undefined ? contentsToJsonData(input.name, input.datatype, input.contents) : rawToJsonData(input.name, input.datatype, count, bytes);
    return { name: input.name, shape, datatype: input.datatype, data, ...(parameters ? { parameters } : {}) };
  });
  const outputs = request.outputs?.map((output) => {
    const parameters = parametersJson(output.parameters);
    return { name: output.name, ...(parameters ? { parameters } : {}) };
  });
  const requested = parametersJson(request.parameters);
  const parameters = binary ? { ...requested, binary_data_output: true } : requested;
  const body = {
    ...(request.id ? { id: request.id } : {}),
    ...(parameters ? { parameters } : {}),
    inputs,
    ...(outputs && outputs.length > 0 ? { outputs } : {}),
  };
  const path = `${modelPath(request.model_name, request.model_version)}/infer`;
  if (!binary) return { method: 'POST', path, body: JSON.stringify(body) };
  const header = encoder.encode(JSON.stringify(body));
  return {
    method: 'POST',
    path,
    body: Buffer.concat([header, ...chunks]),
    headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_LENGTH]: String(header.byteLength) },
  };
}

const WIDE_INTEGER_TENSOR = /"datatype"\s*:\s*"U?INT64"/;
const INTEGER_TEXT = /^-?\d+$/;
const wideNumber = (text: string): number | bigint => (!isSafeNumber(text) && INTEGER_TEXT.test(text) ? BigInt(text) : Number(text));

/**
 * Parses a REST answer. Bodies holding 64-bit integer tensors are read
 * with their integers exact (JSON.parse would round beyond 2^53); the
 * rest take the fast path.
 * @throws SyntaxError for a body that is not JSON.
 */
export function parseRestBody(text: string): unknown {
  if (!text) return undefined;
  return WIDE_INTEGER_TENSOR.test(text) ? parseLossless(text, null, wideNumber) : JSON.parse(text);
}

interface JsonTensor {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  data?: unknown;
  parameters?: unknown;
}

const asRecord = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {});
const asString = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : '';
const asShape = (value: unknown): number[] => (Array.isArray(value) ? value.map(Number) : []);

/**
 * The gRPC reply to an infer answer: every output in `raw_output_contents`,
 * as Triton replies. Outputs the answer carries in binary (`binary` holds
 * the bytes after its JSON header) are sliced out without copying.
 */
export function modelInferReply(json: unknown, binary?: Uint8Array): ModelInferResponse {
  const body = asRecord(json);
  const tensors = Array.isArray(body.outputs) ? (body.outputs as JsonTensor[]) : [];
  let offset = 0;
  const raw = tensors.map((t) => {
    const size = Number(asRecord(t.parameters).binary_data_size);
    if (binary && Number.isSafeInteger(size) && size >= 0) {
      if (offset + size > binary.byteLength) throw new Error(`output '${asString(t.name)}' claims ${size} binary bytes past the end of the answer`);
      const slice = binary.subarray(offset, offset + size);
      offset += size;
      return slice;
    }
    return valuesToRaw(asString(t.datatype), flattenJsonData(t.data));
  });
  const outputs = tensors.map((t) => {
    const parameters = fromParametersJson(t.parameters);
    delete parameters.binary_data_size; // transport detail of the REST answer
    return { name: asString(t.name), datatype: asString(t.datatype), shape: asShape(t.shape), parameters };
  });
  return {
    model_name: asString(body.model_name),
    model_version: asString(body.model_version),
    id: asString(body.id),
    parameters: fromParametersJson(body.parameters),
    outputs,
    raw_output_contents: raw,
  };
}

const tensorMetadata = (json: unknown): TensorMetadata[] =>
  Array.isArray(json) ? json.map((t: JsonTensor) => ({ name: asString(t.name), datatype: asString(t.datatype), shape: asShape(t.shape) })) : [];

export function modelMetadataReply(json: unknown): ModelMetadataResponse {
  const body = asRecord(json);
  return {
    name: asString(body.name),
    versions: Array.isArray(body.versions) ? body.versions.map(asString) : [],
    platform: asString(body.platform),
    inputs: tensorMetadata(body.inputs),
    outputs: tensorMetadata(body.outputs),
  };
}

export function serverMetadataReply(json: unknown): ServerMetadataResponse {
  const body = asRecord(json);
  return { name: asString(body.name), version: asString(body.version), extensions: Array.isArray(body.extensions) ? body.extensions.map(asString) : [] };
}
