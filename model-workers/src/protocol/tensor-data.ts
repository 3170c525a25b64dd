/**
 * Reads a tensor's JSON `data` (flat or nested, row-major) straight into
 * its typed storage, checking every element against the datatype. The walk
 * follows the declared shape, so its depth is bounded by the tensor's rank.
 */
import { badRequest } from '../http/service-error.ts';
import type { DatatypeInfo, TensorStorage } from './datatypes.ts';
import { formatShape } from './tensor-spec.ts';
import { toHalfBits } from './half-float.ts';

const INTEGER_STRING = /^-?\d{1,20}$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 20 ? `${value.slice(0, 20)}…` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}

type ElementWriter = (value: unknown, index: number) => boolean;

function writerFor(info: DatatypeInfo, storage: TensorStorage): ElementWriter {
  switch (info.kind) {
    case 'float': {
      const target = storage as Float32Array | Float64Array;
      return (v, i) => typeof v === 'number' && ((target[i] = v), true);
    }
    case 'half': {
      const target = storage as Uint16Array;
      return (v, i) => typeof v === 'number' && ((target[i] = toHalfBits(v)), true);
    }
    case 'int': {
      const target = storage as Int32Array;
      const min = info.min as number;
      const max = info.max as number;
      return (v, i) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max && ((target[i] = v as number), true);
    }
    case 'bigint': {
      const target = storage as BigInt64Array;
      const min = info.min as bigint;
      const max = info.max as bigint;
      return (v, i) => {
        let big: bigint;
        if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && INTEGER_STRING.test(v)) big = BigInt(v);
        else return false;
        if (big < min || big > max) return false;
        target[i] = big;
        return true;
      };
    }
    case 'bool': {
      const target = storage as Uint8Array;
      return (v, i) => typeof v === 'boolean' && ((target[i] = v ? 1 : 0), true);
    }
    case 'string': {
      const target = storage as string[];
      return (v, i) => typeof v === 'string' && ((target[i] = v), true);
    }
  }
}

function expectation(info: DatatypeInfo): string {
  switch (info.kind) {
    case 'float':
    case 'half':
      return 'a number';
    case 'int':
      return `an integer in [${info.min}, ${info.max}]`;
    case 'bigint':
      return `an integer in [${info.min}, ${info.max}] (a number or a decimal string)`;
    case 'bool':
      return 'true or false';
    case 'string':
      return 'a string';
  }
}

/**
 * Fills a new storage of `count` elements from `data`.
 * @throws ServiceError 400 naming the input, the element and what was expected.
 */
export function readTensorData(
  inputName: string, info: DatatypeInfo, data: unknown, shape: readonly number[], count: number,
): TensorStorage {
  if (!Array.isArray(data)) throw badRequest(`input '${inputName}': data must be an array, got ${describe(data)}`);
  const storage = info.allocate(count);
  const write = writerFor(info, storage);
  const fail = (value: unknown, index: number): never => {
    throw badRequest(`input '${inputName}': element ${index} must be ${expectation(info)} for ${info.datatype}, got ${describe(value)}`);
  };

  const nested = shape.length > 1 && Array.isArray(data[0]);
  if (!nested) {
    if (data.length !== count) {
      throw badRequest(`input '${inputName}': shape ${formatShape(shape)} holds ${count} elements, data has ${data.length}`);
    }
    for (let i = 0; i < count; i++) if (!write(data[i], i)) fail(data[i], i);
    return storage;
  }

  let offset = 0;
  const walk = (node: unknown, depth: number, path: string): void => {
    const expected = shape[depth] ?? 0;
    if (!Array.isArray(node) || node.length !== expected) {
      const got = Array.isArray(node) ? `${node.length} entries` : describe(node);
      throw badRequest(`input '${inputName}': data${path} must have ${expected} entries to match shape ${formatShape(shape)}, got ${got}`);
    }
    if (depth === shape.length - 1) {
      for (let i = 0; i < expected; i++) {
        if (!write(node[i], offset)) fail(node[i], offset);
        offset++;
      }
      return;
    }
    for (let i = 0; i < expected; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return storage;
}
