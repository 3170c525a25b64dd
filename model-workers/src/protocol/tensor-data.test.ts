import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../http/service-error.ts';
import { DATATYPE_INFO, DATATYPES, type Datatype } from './datatypes.ts';
import { readTensorData } from './tensor-data.ts';

/** Splits a flat array into nested arrays of `shape`. */
function nestData(flat: unknown[], shape: number[]): unknown {
  if (shape.length <= 1) return flat;
  const [outer = 0, ...rest] = shape;
  const size = flat.length / outer;
  return Array.from({ length: outer }, (_, i) => nestData(flat.slice(i * size, (i + 1) * size), rest));
}

const elementOf: Record<Datatype, fc.Arbitrary<unknown>> = {
  BOOL: fc.boolean(),
  UINT8: fc.integer({ min: 0, max: 255 }),
  UINT16: fc.integer({ min: 0, max: 65535 }),
  UINT32: fc.integer({ min: 0, max: 0xffffffff }),
  UINT64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
  INT8: fc.integer({ min: -128, max: 127 }),
  INT16: fc.integer({ min: -32768, max: 32767 }),
  INT32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  INT64: fc.maxSafeInteger(),
  FP16: fc.constantFrom(0, 1, -2, 0.5, 65504),
  FP32: fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround),
  FP64: fc.double({ noNaN: true, noDefaultInfinity: true }),
  BYTES: fc.string(),
};

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 });

describe('tensor data', () => {
  it('reads flat and nested data into the same row-major storage, for every datatype', () => {
    const caseArb = fc.constantFrom(...DATATYPES).chain((datatype) =>
      shapeArb.chain((shape) => {
        const count = shape.reduce((a, b) => a * b, 1);
        return fc.tuple(fc.constant(datatype), fc.constant(shape), fc.array(elementOf[datatype], { minLength: count, maxLength: count }));
      }),
    );
    fc.assert(
      fc.property(caseArb, ([datatype, shape, values]) => {
        const count = values.length;
        const info = DATATYPE_INFO[datatype];
        const flat = readTensorData('x', info, values, shape, count);
        const nested = readTensorData('x', info, nestData(values, shape), shape, count);
        expect(Array.from(nested as ArrayLike<unknown>)).toEqual(Array.from(flat as ArrayLike<unknown>));
        expect(flat.length).toBe(count);
      }),
    );
  });

  it('stores values exactly: integers, 64-bit strings, booleans and strings', () => {
    expect(Array.from(readTensorData('x', DATATYPE_INFO.INT64, ['-9223372036854775808', 5], [2], 2) as BigInt64Array)).toEqual([-(2n ** 63n), 5n]);
    expect(Array.from(readTensorData('x', DATATYPE_INFO.BOOL, [[true], [false]], [2, 1], 2) as Uint8Array)).toEqual([1, 0]);
    expect(readTensorData('x', DATATYPE_INFO.BYTES, ['a', 'é'], [2], 2)).toEqual(['a', 'é']);
    expect(Array.from(readTensorData('x', DATATYPE_INFO.UINT8, [0, 255], [2], 2) as Uint8Array)).toEqual([0, 255]);
  });

  it.each([
    ['UINT8', [256], /element 0 must be an integer in \[0, 255\] for UINT8, got 256/],
    ['INT32', [1.5], /element 0 must be an integer/],
    ['FP32', ['1'], /element 0 must be a number for FP32, got "1"/],
    ['BOOL', [1], /element 0 must be true or false for BOOL, got 1/],
    ['BYTES', [3], /must be a string/],
    ['INT64', ['9223372036854775808'], /integer in \[-9223372036854775808, 9223372036854775807\]/],
    ['FP32', [null], /got null/],
  ] as const)('rejects %s data %j with a message naming the element', (datatype, data, message) => {
    expect(() => readTensorData('x', DATATYPE_INFO[datatype], data, [1], 1)).toThrowError(message);
  });

  it('rejects data whose length or nesting does not match the shape', () => {
    expect(() => readTensorData('x', DATATYPE_INFO.FP32, [1, 2, 3], [2, 2], 4)).toThrowError(/shape \[2, 2\] holds 4 elements, data has 3/);
    expect(() => readTensorData('x', DATATYPE_INFO.FP32, [[1, 2], [3]], [2, 2], 4)).toThrowError(/data\[1\] must have 2 entries/);
    expect(() => readTensorData('x', DATATYPE_INFO.FP32, [[1, 2], 3], [2, 2], 4)).toThrowError(/data\[1\] must have 2 entries/);
    expect(() => readTensorData('x', DATATYPE_INFO.FP32, { a: 1 }, [1], 1)).toThrowError(/data must be an array/);
  });

  it('answers any malformed data with a 400 ServiceError, never another error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DATATYPES), shapeArb, fc.jsonValue(), (datatype, shape, data) => {
        const count = shape.reduce((a, b) => a * b, 1);
        try {
          readTensorData('x', DATATYPE_INFO[datatype], data, shape, count);
        } catch (error) {
          expect(error).toBeInstanceOf(ServiceError);
          expect((error as ServiceError).status).toBe(400);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
