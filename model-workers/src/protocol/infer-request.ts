/**
 * Checks an Open Inference Protocol infer request against a model's
 * signature and turns it into typed tensors, before anything reaches ONNX
 * Runtime. Every failure is a 400 that says what was expected and what was
 * sent.
 */
import { badRequest } from '../http/service-error.ts';
import { isRecord } from './json-shape.ts';
import { DATATYPE_INFO, isDatatype, type Datatype, type TensorStorage } from './datatypes.ts';
import { readTensorData } from './tensor-data.ts';
import { formatShape, VARIABLE_DIM, type ModelSignature, type TensorSpec } from './tensor-spec.ts';

export interface RequestTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorStorage;
}

export interface InferRequest {
  id?: string;
  /** In the order of the signature's inputs. */
  inputs: RequestTensor[];
  /** Names of the outputs to return, in signature order. */
  outputs: string[];
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
  const expected = formatShape(spec.shape);
  if (shape.length !== spec.shape.length) {
    throw badRequest(`input '${spec.name}': expected rank ${spec.shape.length} ${expected}, got ${formatShape(shape)}`);
  }
  for (let d = 0; d < shape.length; d++) {
    const want = spec.shape[d] ?? VARIABLE_DIM;
    const got = shape[d] ?? 0;
    if (batching && d === 0) {
      if (got < 1 || got > maxBatchSize) {
        throw badRequest(`input '${spec.name}': batch size (dim 0) must be between 1 and ${maxBatchSize}, got ${got}`);
      }
    } else if (want !== VARIABLE_DIM && want !== got) {
      throw badRequest(`input '${spec.name}': expected shape ${expected}, got ${formatShape(shape)} (dim ${d} must be ${want})`);
    }
  }
}

function readOutputs(raw: unknown, signature: ModelSignature): string[] {
  const all = signature.outputs.map((o) => o.name);
  if (raw === undefined) return all;
  if (!Array.isArray(raw)) throw badRequest('outputs must be an array of {"name": ...} objects');
  const wanted = new Set<string>();
  for (const entry of raw) {
    if (!isRecord(entry) || typeof entry.name !== 'string') throw badRequest('outputs must be an array of {"name": ...} objects');
    if (!all.includes(entry.name)) throw badRequest(`unknown output '${entry.name}'; this model has ${all.map((n) => `'${n}'`).join(', ')}`);
    wanted.add(entry.name);
  }
  return wanted.size === 0 ? all : all.filter((name) => wanted.has(name));
}

/** Validates a parsed JSON body against `signature`. */
export function parseInferRequest(body: unknown, signature: ModelSignature, limits: ParseLimits): InferRequest {
  if (!isRecord(body)) throw badRequest('request body must be a JSON object with an "inputs" array');
  const { id, inputs, outputs, parameters } = body;
  if (id !== undefined && typeof id !== 'string') throw badRequest('id must be a string');
  if (parameters !== undefined && !isRecord(parameters)) throw badRequest('parameters must be an object');
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

  let batchSize = 1;
  const tensors: RequestTensor[] = signature.inputs.map((spec, index) => {
    const input = byName.get(spec.name);
    if (!input) throw badRequest(`missing input '${spec.name}' (${spec.datatype} ${formatShape(spec.shape)})`);
    if (isRecord(input.parameters) && input.parameters.binary_data_size !== undefined) {
      throw badRequest(`input '${spec.name}': binary tensor data is not supported; send "data" as JSON`);
    }
    if (!isDatatype(input.datatype)) {
      throw badRequest(`input '${spec.name}': unknown datatype ${JSON.stringify(input.datatype)}; expected ${spec.datatype}`);
    }
    if (input.datatype !== spec.datatype) throw badRequest(`input '${spec.name}': expected datatype ${spec.datatype}, got ${input.datatype}`);
    const { shape, count } = readShape(spec.name, input.shape, limits.maxElements);
    checkShape(spec, shape, signature.maxBatchSize);
    if (signature.maxBatchSize > 0) {
      const rows = shape[0] ?? 0;
      if (index === 0) batchSize = rows;
      else if (rows !== batchSize) {
        throw badRequest(`input '${spec.name}': batch size ${rows} differs from input '${signature.inputs[0]?.name}' (${batchSize})`);
      }
    }
    const data = readTensorData(spec.name, DATATYPE_INFO[spec.datatype], input.data, shape, count);
    return { name: spec.name, datatype: spec.datatype, shape, data };
  });

  return { ...(id === undefined ? {} : { id }), inputs: tensors, outputs: readOutputs(outputs, signature), batchSize };
}
