/**
 * Checks an Open Inference Protocol infer request against a model's
 * signature and turns it into typed tensors, before anything reaches ONNX
 * Runtime. Every failure is a 400 that says what was expected and what was
 * sent.
 */
import { badRequest } from '../http/service-error.ts';
import { isRecord } from './json-shape.ts';
import { DATATYPE_INFO, isDatatype, type Datatype, type TensorStorage } from './datatypes.ts';
import { decodeRawTensor } from './raw-tensor.ts';
import { readTensorData } from './tensor-data.ts';
import { formatShape, VARIABLE_DIM, type ModelSignature, type TensorSpec } from './tensor-spec.ts';

export interface RequestTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorStorage;
}

/** How the client wants one output returned. */
export interface OutputOptions {
  /** Raw bytes after the JSON header (binary tensor extension) rather than JSON `data`. */
  binary: boolean;
  /** Top-k classification (`classification`, alias `class_count`); 0 = the tensor as the model produced it. */
  classCount: number;
}

export interface InferRequest {
  id?: string;
  /** In the order of the signature's inputs. */
  inputs: RequestTensor[];
  /** Names of the outputs to return, in signature order. */
  outputs: string[];
  /** Per returned output, how to return it; absent = JSON, no classification. */
  outputOptions?: ReadonlyMap<string, OutputOptions>;
  /** Rows along dim 0 when the model batches; 1 otherwise. */
  batchSize: number;
}

export interface ParseLimits {
  /** Largest element count accepted for one tensor. */
  maxElements: number;
}

function readShape(name: string, shape: unknown, maxElements: number): { shape: number[]; count: number } {
  if (!Array.isArray(shape)) throw badRequest(`input '${name}': shape must be an array of non-negative integers`);
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || (dim as number) < 0) {
      throw badRequest(`input '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(shape).slice(0, 80)}`);
    }
    count *= dim as number;
    if (count > maxElements) throw badRequest(`input '${name}': shape ${formatShape(shape as number[])} has more elements than this server accepts (${maxElements})`);
  }
  return { shape: shape as number[], count };
}

function checkShape(spec: TensorSpec, shape: readonly number[], maxBatchSize: number): void {
  const batching = maxBatchSize > 0;
  if (shape.length !== spec.shape.length) {
    throw badRequest(`input '${spec.name}': expected rank ${spec.shape.length} ${formatShape(spec.shape)}, got ${formatShape(shape)}`);
  }
  for (let d = 0; d < shape.length; d++) {
    const want = spec.shape[d] ?? VARIABLE_DIM;
    const got = shape[d] ?? 0;
    if (batching && d === 0) {
      if (got < 1 || got > maxBatchSize) {
        throw badRequest(`input '${spec.name}': batch size (dim 0) must be between 1 and ${maxBatchSize}, got ${got}`);
      }
    } else if (want !== VARIABLE_DIM && want !== got) {
      throw badRequest(`input '${spec.name}': expected shape ${formatShape(spec.shape)}, got ${formatShape(shape)} (dim ${d} must be ${want})`);
    }
  }
}

function readFlag(value: unknown, what: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw badRequest(`${what} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Top-k classification of an output: Triton's wire parameter is
 * `classification`; `class_count` (the client libraries' argument name) is
 * accepted too.
 */
function readClassCount(output: string, parameters: Record<string, unknown> | undefined): number {
  const wire = parameters?.classification;
  const alias = parameters?.class_count;
  if (wire !== undefined && alias !== undefined && wire !== alias) {
    throw badRequest(`output '${output}': parameters.classification (${JSON.stringify(wire)}) and class_count (${JSON.stringify(alias)}) disagree`);
  }
  const count = wire ?? alias ?? 0;
  const name = wire === undefined ? 'class_count' : 'classification';
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw badRequest(`output '${output}': parameters.${name} must be a non-negative integer, got ${JSON.stringify(count)}`);
  }
  return count;
}

function readOutputs(raw: unknown, signature: ModelSignature, binaryDefault: boolean): { names: string[]; options: Map<string, OutputOptions> } {
  const all = signature.outputs.map((o) => o.name);
  const options = new Map<string, OutputOptions>();
  if (raw === undefined) {
    for (const name of all) options.set(name, { binary: binaryDefault, classCount: 0 });
    return { names: all, options };
  }
  if (!Array.isArray(raw)) throw badRequest('outputs must be an array of {"name": ...} objects');
  for (const entry of raw) {
    if (!isRecord(entry) || typeof entry.name !== 'string') throw badRequest('outputs must be an array of {"name": ...} objects');
    const name = entry.name;
    if (!all.includes(name)) throw badRequest(`unknown output '${name}'; this model has ${all.map((n) => `'${n}'`).join(', ')}`);
    if (options.has(name)) throw badRequest(`output '${name}' is requested more than once`);
    const parameters = entry.parameters;
    if (parameters !== undefined && !isRecord(parameters)) throw badRequest(`output '${name}': parameters must be an object`);
    refuseUnsupported(parameters, `output '${name}'`);
    const binary = readFlag(parameters?.binary_data, `output '${name}': parameters.binary_data`) ?? binaryDefault;
    options.set(name, { binary, classCount: readClassCount(name, parameters) });
  }
  if (options.size === 0) {
    for (const name of all) options.set(name, { binary: binaryDefault, classCount: 0 });
    return { names: all, options };
  }
  return { names: all.filter((name) => options.has(name)), options };
}

/**
 * Triton parameters for features Switchyard does not have: refused with a
 * 400 naming the feature, rather than ignored (a client would otherwise get
 * an answer computed without them).
 */
function refuseUnsupported(parameters: unknown, where: string): void {
  if (!isRecord(parameters)) return;
  if (parameters.shared_memory_region !== undefined) {
    throw badRequest(`${where}: shared memory (shared_memory_region) is not supported; send the tensor in the request body, as JSON or binary tensor data`);
  }
  const sequence = parameters.sequence_id;
  if (sequence !== undefined && sequence !== 0 && sequence !== '') {
    throw badRequest(`${where}: sequence batching (sequence_id) is not supported; models are stateless, send each request on its own`);
  }
}

/** Binary slices of the inputs that declare `binary_data_size`, taken in the order the inputs are listed. */
function binarySlices(inputs: readonly Record<string, unknown>[], binary: Uint8Array | undefined): Map<string, Uint8Array> {
  const slices = new Map<string, Uint8Array>();
  let offset = 0;
  for (const input of inputs) {
    const size = isRecord(input.parameters) ? input.parameters.binary_data_size : undefined;
    if (size === undefined) continue;
    const name = input.name as string;
    if (!binary) {
      throw badRequest(`input '${name}': binary_data_size is set but the request has no binary part; send the Inference-Header-Content-Length header with the JSON header's length`);
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw badRequest(`input '${name}': binary_data_size must be a non-negative integer, got ${JSON.stringify(size)}`);
    }
    if (input.data !== undefined) throw badRequest(`input '${name}': give either "data" or parameters.binary_data_size, not both`);
    if (offset + size > binary.byteLength) {
      throw badRequest(`input '${name}': binary_data_size ${size} at byte ${offset} of the binary part runs past its end (${binary.byteLength} bytes)`);
    }
    slices.set(name, binary.subarray(offset, offset + size));
    offset += size;
  }
  if (binary && offset !== binary.byteLength) {
    throw badRequest(`the binary part has ${binary.byteLength} bytes but the inputs' binary_data_size add up to ${offset}`);
  }
  return slices;
}

/**
 * Validates a parsed JSON body against `signature`. `binary` is the part
 * after the JSON header of a binary-extension body; inputs with
 * `parameters.binary_data_size` take their bytes from it, in order.
 */
export function parseInferRequest(body: unknown, signature: ModelSignature, limits: ParseLimits, binary?: Uint8Array): InferRequest {
  if (!isRecord(body)) throw badRequest('request body must be a JSON object with an "inputs" array');
  const { id, inputs, outputs, parameters } = body;
  if (id !== undefined && typeof id !== 'string') throw badRequest('id must be a string');
  if (parameters !== undefined && !isRecord(parameters)) throw badRequest('parameters must be an object');
  const binaryOutputs = readFlag(parameters?.binary_data_output, 'parameters.binary_data_output') ?? false;
  refuseUnsupported(parameters, 'request');
  if (!Array.isArray(inputs) || inputs.length === 0) throw badRequest('request must have a non-empty "inputs" array');

  const byName = new Map<string, Record<string, unknown>>();
  for (const input of inputs) {
    if (!isRecord(input) || typeof input.name !== 'string') throw badRequest('each input must be an object with a string "name"');
    if (byName.has(input.name)) throw badRequest(`input '${input.name}' is given more than once`);
    if (!signature.inputs.some((s) => s.name === input.name)) {
      throw badRequest(`unknown input '${input.name}'; this model takes ${signature.inputs.map((s) => `'${s.name}'`).join(', ')}`);
    }
    byName.set(input.name, input);
  }
  const slices = binarySlices(inputs as Record<string, unknown>[], binary);

  let batchSize = 1;
  const tensors: RequestTensor[] = signature.inputs.map((spec, index) => {
    const input = byName.get(spec.name);
    if (!input) throw badRequest(`missing input '${spec.name}' (${spec.datatype} ${formatShape(spec.shape)})`);
    refuseUnsupported(input.parameters, `input '${spec.name}'`);
    const raw = slices.get(spec.name);
    if (!isDatatype(input.datatype)) {
      throw badRequest(`input '${spec.name}': unknown datatype ${JSON.stringify(input.datatype)}; expected ${spec.datatype}`);
    }
    if (input.datatype !== spec.datatype) throw badRequest(`input '${spec.name}': expected datatype ${spec.datatype}, got ${input.datatype}`);
    // Binary data is bounded by its byte size, checked against shape × datatype before any allocation.
    const { shape, count } = readShape(spec.name, input.shape, raw ? Number.MAX_SAFE_INTEGER : limits.maxElements);
    checkShape(spec, shape, signature.maxBatchSize);
    if (signature.maxBatchSize > 0) {
      const rows = shape[0] ?? 0;
      if (index === 0) batchSize = rows;
      else if (rows !== batchSize) {
        throw badRequest(`input '${spec.name}': batch size ${rows} differs from input '${signature.inputs[0]?.name}' (${batchSize})`);
      }
    }
    const info = DATATYPE_INFO[spec.datatype];
    const data = raw ? decodeRawTensor(spec.name, info, raw, shape, count) : readTensorData(spec.name, info, input.data, shape, count);
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });

  const requested = readOutputs(outputs, signature, binaryOutputs);
  return { ...(id === undefined ? {} : { id }), inputs: tensors, outputs: requested.names, outputOptions: requested.options, batchSize };
}
