/**
 * Converts tensor elements between the gRPC forms (`raw_*_contents` bytes
 * and typed `InferTensorContents` fields) and the JSON `data` arrays of the
 * v2 REST protocol. Raw elements are little-endian; a BYTES element is a
 * 4-byte little-endian length followed by its bytes. Only the transport's
 * own concerns are checked here (byte counts, which field carries a
 * datatype); names, shapes and element values are checked by the service
 * the call is translated for, with its own messages.
 */
import type { InferTensorContents } from './messages.ts';

/** Bytes per element of the fixed-size datatypes. */
export const ELEMENT_BYTES: ReadonlyMap<string, number> = new Map([
  ['BOOL', 1], ['UINT8', 1], ['UINT16', 2], ['UINT32', 4], ['UINT64', 8],
  ['INT8', 1], ['INT16', 2], ['INT32', 4], ['INT64', 8],
  ['FP16', 2], ['FP32', 4], ['FP64', 8],
]);

/** A request the transport cannot translate: the caller's fault (INVALID_ARGUMENT). */
export class TensorCodecError extends Error {
  override readonly name = 'TensorCodecError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function halfToNumber(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** IEEE half bits of `value`, rounded to nearest even. */
function numberToHalf(value: number): number {
  f32[0] = value;
  const bits = f32Bits[0] ?? 0;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/**
 * The shortest decimal that reads back as the same FP32 value: 9
 * significant digits always suffice, and keep JSON bodies short.
 */
function fp32Json(value: number): number | null {
  if (value === 0) return value; // keeps -0
  return Number.isFinite(value) ? Number(value.toPrecision(9)) : null;
}

/** Splits BYTES raw contents into its elements. */
export function splitBytesElements(inputName: string, raw: Uint8Array): Uint8Array[] {
  const elements: Uint8Array[] = [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let offset = 0;
  while (offset < raw.byteLength) {
    if (offset + 4 > raw.byteLength) throw new TensorCodecError(`input '${inputName}': BYTES element ${elements.length} has a truncated 4-byte length prefix`);
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > raw.byteLength) {
      throw new TensorCodecError(`input '${inputName}': BYTES element ${elements.length} declares ${length} bytes, only ${raw.byteLength - offset} remain`);
    }
    elements.push(raw.subarray(offset, offset + length));
    offset += length;
  }
  return elements;
}

function bytesToText(inputName: string, index: number, bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // The JSON form carries BYTES elements as strings, so only text can pass.
    throw new TensorCodecError(`input '${inputName}': BYTES element ${index} is not valid UTF-8 (this transport carries text elements only)`);
  }
}

/**
 * Checks that one input's raw bytes hold `elementCount` elements of a
 * fixed-size `datatype` (BYTES and unknown datatypes are the service's to judge).
 * @throws TensorCodecError naming both sizes.
 */
export function checkRawSize(inputName: string, datatype: string, elementCount: number, raw: Uint8Array): void {
  const size = ELEMENT_BYTES.get(datatype);
  if (size === undefined || raw.byteLength === elementCount * size) return;
  throw new TensorCodecError(
    `input '${inputName}': raw contents hold ${raw.byteLength} bytes, shape and ${datatype} need ${elementCount} × ${size} = ${elementCount * size}`,
  );
}

/**
 * Decodes one input's raw bytes into a flat JSON `data` array.
 * @throws TensorCodecError when the byte count does not fit `elementCount` elements of `datatype`.
 */
export function rawToJsonData(inputName: string, datatype: string, elementCount: number, raw: Uint8Array): unknown[] {
  if (datatype === 'BYTES') return splitBytesElements(inputName, raw).map((bytes, i) => bytesToText(inputName, i, bytes));
  const size = ELEMENT_BYTES.get(datatype);
  if (size === undefined) return []; // the service names the unknown datatype
  checkRawSize(inputName, datatype, elementCount, raw);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Array<unknown>(elementCount);
  for (let i = 0; i < elementCount; i++) out[i] = readElement(view, datatype, i * size);
  return out;
}

function readElement(view: DataView, datatype: string, at: number): unknown {
  switch (datatype) {
    case 'BOOL': return view.getUint8(at) !== 0;
    case 'UINT8': return view.getUint8(at);
    case 'UINT16': return view.getUint16(at, true);
    case 'UINT32': return view.getUint32(at, true);
    case 'UINT64': return view.getBigUint64(at, true).toString();
    case 'INT8': return view.getInt8(at);
    case 'INT16': return view.getInt16(at, true);
    case 'INT32': return view.getInt32(at, true);
    case 'INT64': return view.getBigInt64(at, true).toString();
    case 'FP16': {
      const value = halfToNumber(view.getUint16(at, true));
      return Number.isFinite(value) ? value : null;
    }
    case 'FP32': return fp32Json(view.getFloat32(at, true));
    default: {
      const value = view.getFloat64(at, true);
      return Number.isFinite(value) ? value : null;
    }
  }
}

/** The `InferTensorContents` field that carries each datatype. */
const CONTENTS_FIELD: ReadonlyMap<string, keyof InferTensorContents> = new Map([
  ['BOOL', 'bool_contents'], ['INT8', 'int_contents'], ['INT16', 'int_contents'], ['INT32', 'int_contents'],
  ['INT64', 'int64_contents'], ['UINT8', 'uint_contents'], ['UINT16', 'uint_contents'], ['UINT32', 'uint_contents'],
  ['UINT64', 'uint64_contents'], ['FP32', 'fp32_contents'], ['FP64', 'fp64_contents'], ['BYTES', 'bytes_contents'],
]);

const FIELDS: ReadonlyArray<keyof InferTensorContents> = [
  'bool_contents', 'int_contents', 'int64_contents', 'uint_contents', 'uint64_contents', 'fp32_contents', 'fp64_contents', 'bytes_contents',
];

/**
 * Reads one input's typed contents into a flat JSON `data` array.
 * @throws TensorCodecError when the elements sit in a field of another datatype.
 */
export function contentsToJsonData(inputName: string, datatype: string, contents: InferTensorContents | null | undefined): unknown[] {
  const field = CONTENTS_FIELD.get(datatype);
  const filled = FIELDS.filter((f) => (contents?.[f]?.length ?? 0) > 0);
  if (field === undefined) {
    if (datatype === 'FP16' && filled.length > 0) throw new TensorCodecError(`input '${inputName}': FP16 has no typed contents field; send it in raw_input_contents`);
    return []; // the service names the unknown datatype or the missing elements
  }
  const wrong = filled.find((f) => f !== field);
  if (wrong !== undefined) throw new TensorCodecError(`input '${inputName}': ${datatype} elements belong in contents.${field}, got contents.${wrong}`);
  const values = contents?.[field] ?? [];
  switch (field) {
    case 'bytes_contents':
      return (values as Uint8Array[]).map((bytes, i) => bytesToText(inputName, i, bytes));
    case 'fp32_contents':
      return (values as number[]).map(fp32Json);
    case 'fp64_contents':
      return (values as number[]).map((v) => (Number.isFinite(v) ? v : null));
    case 'int64_contents':
    case 'uint64_contents':
      return (values as Array<string | number>).map(String);
    default:
      return values;
  }
}

/** Row-major elements of nested or flat JSON `data`. */
export function flattenJsonData(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) walk(item);
    else out.push(node);
  };
  walk(data);
  return out;
}

const asNumber = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : typeof v === 'string' ? Number(v) : NaN);
const asBigInt = (v: unknown): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return 0n;
};

/**
 * Encodes flat elements (as JSON or typed arrays carry them) into raw
 * contents. JSON `null` in a float tensor becomes NaN.
 */
export function valuesToRaw(datatype: string, values: ArrayLike<unknown>): Buffer {
  if (datatype === 'BYTES') {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const bytes = v instanceof Uint8Array ? v : utf8Encoder.encode(typeof v === 'string' ? v : JSON.stringify(v));
      parts.push(bytes);
      total += 4 + bytes.byteLength;
    }
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const bytes of parts) {
      out.writeUInt32LE(bytes.byteLength, at);
      out.set(bytes, at + 4);
      at += 4 + bytes.byteLength;
    }
    return out;
  }
  const size = ELEMENT_BYTES.get(datatype);
  if (size === undefined) throw new TensorCodecError(`unknown datatype ${JSON.stringify(datatype)}`);
  const out = Buffer.alloc(values.length * size);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const at = i * size;
    switch (datatype) {
      case 'BOOL': view.setUint8(at, v === true || v === 1 ? 1 : 0); break;
      case 'UINT8': view.setUint8(at, asNumber(v)); break;
      case 'UINT16': view.setUint16(at, asNumber(v), true); break;
      case 'UINT32': view.setUint32(at, asNumber(v), true); break;
      case 'UINT64': view.setBigUint64(at, BigInt.asUintN(64, asBigInt(v)), true); break;
      case 'INT8': view.setInt8(at, asNumber(v)); break;
      case 'INT16': view.setInt16(at, asNumber(v), true); break;
      case 'INT32': view.setInt32(at, asNumber(v), true); break;
      case 'INT64': view.setBigInt64(at, BigInt.asIntN(64, asBigInt(v)), true); break;
      case 'FP16': view.setUint16(at, numberToHalf(v === null ? NaN : asNumber(v)), true); break;
      case 'FP32': view.setFloat32(at, v === null ? NaN : asNumber(v), true); break;
      default: view.setFloat64(at, v === null ? NaN : asNumber(v), true);
    }
  }
  return out;
}

/**
 * Decodes raw contents into numbers (bigint for 64-bit integers, booleans
 * for BOOL, byte arrays for BYTES): what a client reads from
 * `raw_output_contents`.
 */
export function rawToValues(datatype: string, raw: Uint8Array): Array<number | bigint | boolean | Uint8Array> {
  if (datatype === 'BYTES') return splitBytesElements('output', raw);
  const size = ELEMENT_BYTES.get(datatype);
  if (size === undefined) throw new TensorCodecError(`unknown datatype ${JSON.stringify(datatype)}`);
  if (raw.byteLength % size !== 0) throw new TensorCodecError(`${raw.byteLength} bytes are not a whole number of ${datatype} elements`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: Array<number | bigint | boolean> = [];
  for (let at = 0; at < raw.byteLength; at += size) {
    switch (datatype) {
      case 'UINT64': out.push(view.getBigUint64(at, true)); break;
      case 'INT64': out.push(view.getBigInt64(at, true)); break;
      case 'FP16': out.push(halfToNumber(view.getUint16(at, true))); break;
      case 'FP32': out.push(view.getFloat32(at, true)); break;
      case 'FP64': out.push(view.getFloat64(at, true)); break;
      default: {
        const value = readElement(view, datatype, at);
        out.push(value as number | boolean);
      }
    }
  }
  return out;
}
