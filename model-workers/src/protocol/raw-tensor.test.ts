import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../http/service-error.ts';
import { DATATYPE_INFO, DATATYPES, type Datatype, type TensorStorage } from './datatypes.ts';
import { decodeRawTensor, ELEMENT_BYTES, encodeRawTensor } from './raw-tensor.ts';

/** Little-endian bytes written with DataView, independently of the codec under test. */
function littleEndian(datatype: Datatype, values: readonly unknown[]): Uint8Array {
  if (datatype === 'BYTES') {
    const parts = (values as string[]).map((v) => Buffer.from(v, 'utf8'));
    const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, o);
      p.copy(out, o + 4);
      o += 4 + p.length;
    }
    return out;
  }
  const width = ELEMENT_BYTES[datatype];
  const view = new DataView(new ArrayBuffer(values.length * width));
  values.forEach((v, i) => {
    const at = i * width;
    switch (datatype) {
      case 'BOOL': case 'UINT8': view.setUint8(at, v as number); break;
      case 'INT8': view.setInt8(at, v as number); break;
      case 'UINT16': case 'FP16': view.setUint16(at, v as number, true); break;
      case 'INT16': view.setInt16(at, v as number, true); break;
      case 'UINT32': view.setUint32(at, v as number, true); break;
      case 'INT32': view.setInt32(at, v as number, true); break;
      case 'FP32': view.setFloat32(at, v as number, true); break;
      case 'FP64': view.setFloat64(at, v as number, true); break;
      case 'UINT64': view.setBigUint64(at, v as bigint, true); break;
      case 'INT64': view.setBigInt64(at, v as bigint, true); break;
    }
  });
  return new Uint8Array(view.buffer);
}

const elementOf: Record<Datatype, fc.Arbitrary<unknown>> = {
  BOOL: fc.integer({ min: 0, max: 1 }),
  UINT8: fc.integer({ min: 0, max: 255 }),
  UINT16: fc.integer({ min: 0, max: 65535 }),
  UINT32: fc.integer({ min: 0, max: 0xffffffff }),
  UINT64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  INT8: fc.integer({ min: -128, max: 127 }),
  INT16: fc.integer({ min: -32768, max: 32767 }),
  INT32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  INT64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  FP16: fc.integer({ min: 0, max: 0xffff }),
  // Any 32-bit pattern, NaN and infinities included.
  FP32: fc.float(),
  FP64: fc.double(),
  BYTES: fc.string({ unit: 'grapheme' }),
};

const asArray = (s: TensorStorage): unknown[] => Array.from(s as ArrayLike<unknown>);

describe('raw tensor bytes', () => {
  it.each(DATATYPES)('%s: little-endian bytes decode to the values written and encode back to the same bytes', (datatype) => {
    fc.assert(fc.property(fc.array(elementOf[datatype], { maxLength: 24 }), (values) => {
      const bytes = littleEndian(datatype, values);
      const decoded = decodeRawTensor('x', DATATYPE_INFO[datatype], bytes, [values.length], values.length);
      const expected = datatype === 'FP32' ? values.map((v) => Math.fround(v as number)) : values;
      expect(asArray(decoded)).toEqual(expected);
      expect(Buffer.from(encodeRawTensor(datatype, decoded)).equals(Buffer.from(bytes))).toBe(true);
    }));
  });

  it('refuses a byte size that does not match shape × datatype, naming both', () => {
    expect(() => decodeRawTensor('image', DATATYPE_INFO.FP32, new Uint8Array(10), [1, 3], 3))
      .toThrow("input 'image': binary_data_size 10 does not match shape [1, 3] of FP32 (expected 3 × 4 = 12 bytes)");
  });

  it('refuses BYTES elements that run past the data, leftover bytes, non-UTF-8 text and BOOL bytes other than 0 and 1', () => {
    const cut = littleEndian('BYTES', ['abc']).subarray(0, 6);
    expect(() => decodeRawTensor('s', DATATYPE_INFO.BYTES, cut, [1], 1)).toThrow("input 's': BYTES element 0 declares 3 bytes but only 2 remain");
    const extra = new Uint8Array([...littleEndian('BYTES', ['a']), 9]);
    expect(() => decodeRawTensor('s', DATATYPE_INFO.BYTES, extra, [1], 1)).toThrow(/1 bytes are left over/);
    const invalid = new Uint8Array([1, 0, 0, 0, 0xff]);
    expect(() => decodeRawTensor('s', DATATYPE_INFO.BYTES, invalid, [1], 1)).toThrow("input 's': BYTES element 0 is not valid UTF-8");
    expect(() => decodeRawTensor('s', DATATYPE_INFO.BYTES, new Uint8Array(7), [2], 2)).toThrow(/too small for shape \[2\] of BYTES/);
    expect(() => decodeRawTensor('b', DATATYPE_INFO.BOOL, new Uint8Array([0, 2]), [2], 2)).toThrow("input 'b': element 1 must be byte 0 or 1 for BOOL, got 2");
  });

  it('answers any bytes and any element count with values or a 400, never another error', () => {
    fc.assert(fc.property(fc.constantFrom(...DATATYPES), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 40 }), (datatype, bytes, count) => {
      try {
        const decoded = decodeRawTensor('x', DATATYPE_INFO[datatype], bytes, [count], count);
        expect(decoded.length).toBe(count);
      } catch (error) {
        expect(error).toBeInstanceOf(ServiceError);
        expect((error as ServiceError).status).toBe(400);
      }
    }));
  });
});
