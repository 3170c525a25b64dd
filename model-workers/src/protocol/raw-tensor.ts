/**
 * Raw tensor bytes, as Triton's binary tensor extension (HTTP) and the
 * gRPC `raw_input_contents` / `raw_output_contents` carry them: row-major,
 * little-endian, no padding; BOOL one byte per element; BYTES a 4-byte
 * little-endian length before each element's bytes.
 */
import { badRequest } from '../http/service-error.ts';
import type { Datatype, DatatypeInfo, TensorStorage } from './datatypes.ts';
import { formatShape } from './tensor-spec.ts';

/** Bytes per element of fixed-size datatypes; BYTES is variable (0 here). */
export const ELEMENT_BYTES: Readonly<Record<Datatype, number>> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4,
  UINT64: 8, INT64: 8, FP64: 8, BYTES: 0,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

function byteSwap(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/**
 * Decodes `count` elements of `info.datatype` from `bytes` into new storage
 * (a copy: the storage is later transferred to the session thread).
 * @throws ServiceError 400 when the byte size does not match shape × datatype,
 * or a BYTES element is cut short or is not UTF-8.
 */
export function decodeRawTensor(
  inputName: string, info: DatatypeInfo, bytes: Uint8Array, shape: readonly number[], count: number,
): TensorStorage {
  const width = ELEMENT_BYTES[info.datatype];
  if (width === 0) return decodeBytesElements(inputName, bytes, shape, count);
  if (bytes.byteLength !== count * width) {
    throw badRequest(`input '${inputName}': binary_data_size ${bytes.byteLength} does not match shape ${formatShape(shape)} of ${info.datatype} (expected ${count} × ${width} = ${count * width} bytes)`);
  }
  const storage = info.allocate(count) as Exclude<TensorStorage, string[]>;
  const target = new Uint8Array(storage.buffer, storage.byteOffset, storage.byteLength);
  target.set(bytes);
  if (!LITTLE_ENDIAN && width > 1) byteSwap(target, width);
  if (info.datatype === 'BOOL') {
    for (let i = 0; i < target.length; i++) {
      if ((target[i] as number) > 1) throw badRequest(`input '${inputName}': element ${i} must be byte 0 or 1 for BOOL, got ${target[i]}`);
    }
  }
  return storage;
}

function decodeBytesElements(inputName: string, bytes: Uint8Array, shape: readonly number[], count: number): string[] {
  // Every element takes at least its 4-byte length: refuse before allocating.
  if (count * 4 > bytes.byteLength) {
    throw badRequest(`input '${inputName}': binary_data_size ${bytes.byteLength} is too small for shape ${formatShape(shape)} of BYTES (at least ${count * 4} bytes of lengths)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<string>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.byteLength) throw badRequest(`input '${inputName}': BYTES element ${i} has no 4-byte length (data ends at byte ${bytes.byteLength})`);
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.byteLength) {
      throw badRequest(`input '${inputName}': BYTES element ${i} declares ${length} bytes but only ${bytes.byteLength - offset} remain`);
    }
    try {
      out[i] = utf8.decode(bytes.subarray(offset, offset + length));
    } catch {
      // ONNX Runtime string tensors hold text; raw non-UTF-8 bytes cannot reach the model intact.
      throw badRequest(`input '${inputName}': BYTES element ${i} is not valid UTF-8`);
    }
    offset += length;
  }
  if (offset !== bytes.byteLength) {
    throw badRequest(`input '${inputName}': binary_data_size ${bytes.byteLength} holds ${count} BYTES elements in ${offset} bytes; ${bytes.byteLength - offset} bytes are left over`);
  }
  return out;
}

/** The raw bytes of a tensor's storage (a view where possible, no copy). */
export function encodeRawTensor(datatype: Datatype, data: TensorStorage): Uint8Array {
  if (Array.isArray(data)) return encodeBytesElements(data);
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = ELEMENT_BYTES[datatype];
  if (LITTLE_ENDIAN || width <= 1) return view;
  const copy = view.slice();
  byteSwap(copy, width);
  return copy;
}

function encodeBytesElements(values: readonly string[]): Uint8Array {
  const encoded = values.map((v) => encoder.encode(v));
  const total = encoded.reduce((sum, e) => sum + 4 + e.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const e of encoded) {
    view.setUint32(offset, e.byteLength, true);
    out.set(e, offset + 4);
    offset += 4 + e.byteLength;
  }
  return out;
}
