import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentsToJsonData, ELEMENT_BYTES, rawToJsonData, rawToValues, TensorCodecError, valuesToRaw } from './tensor-codec.ts';

const FIXED = [...ELEMENT_BYTES.keys()];

/** Arbitrary raw contents of `datatype`, in whole elements. */
const rawOf = (datatype: string) =>
  fc.integer({ min: 0, max: 24 }).chain((count) =>
    fc.uint8Array({ minLength: count * (ELEMENT_BYTES.get(datatype) ?? 1), maxLength: count * (ELEMENT_BYTES.get(datatype) ?? 1) }).map((bytes) => ({ count, bytes })),
  );

describe('tensor codec', () => {
  it('decodes raw contents to JSON data that encode back to the same bytes (finite values, every fixed-size datatype)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXED).chain((datatype) => rawOf(datatype).map((raw) => ({ datatype, ...raw }))), ({ datatype, count, bytes }) => {
        const data = rawToJsonData('x', datatype, count, bytes);
        expect(data).toHaveLength(count);
        const again = valuesToRaw(datatype, data);
        const floats = datatype === 'FP16' || datatype === 'FP32' || datatype === 'FP64';
        if (datatype === 'BOOL') expect([...again]).toEqual([...bytes].map((b) => (b === 0 ? 0 : 1)));
        else if (!floats) expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
        else {
          // Non-finite values travel as JSON null and come back as NaN; finite ones keep their bits.
          const before = rawToValues(datatype, bytes) as number[];
          const after = rawToValues(datatype, again) as number[];
          before.forEach((v, i) => (Number.isFinite(v) ? expect(Object.is(after[i], v)).toBe(true) : expect(after[i]).toBeNaN()));
        }
      }),
    );
  });

  it('round-trips BYTES elements of any UTF-8 text with 4-byte little-endian lengths', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { maxLength: 10 }), (texts) => {
        const raw = valuesToRaw('BYTES', texts);
        expect(raw.byteLength).toBe(texts.reduce((n, t) => n + 4 + Buffer.byteLength(t), 0));
        expect(rawToJsonData('x', 'BYTES', texts.length, raw)).toEqual(texts);
      }),
    );
  });

  it('never throws anything but a TensorCodecError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIXED, 'BYTES', 'NOPE'), fc.nat(40), fc.uint8Array({ maxLength: 64 }), (datatype, count, bytes) => {
        try {
          rawToJsonData('x', datatype, count, bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(TensorCodecError);
        }
      }),
    );
  });

  it('names the input and both byte counts when raw contents do not fit the shape', () => {
    expect(() => rawToJsonData('features', 'FP32', 4, new Uint8Array(12))).toThrow("input 'features': raw contents hold 12 bytes, shape and FP32 need 4 × 4 = 16");
    expect(() => rawToJsonData('s', 'BYTES', 1, Uint8Array.of(9, 0, 0, 0, 65))).toThrow("input 's': BYTES element 0 declares 9 bytes, only 1 remain");
    expect(() => rawToJsonData('s', 'BYTES', 1, Uint8Array.of(1, 0, 0, 0, 0xff))).toThrow('not valid UTF-8');
  });

  it('reads typed contents from the field of the datatype and refuses another field', () => {
    expect(contentsToJsonData('x', 'INT64', { int64_contents: ['9007199254740993', '-1'] })).toEqual(['9007199254740993', '-1']);
    expect(contentsToJsonData('x', 'UINT8', { uint_contents: [1, 255] })).toEqual([1, 255]);
    expect(contentsToJsonData('x', 'BYTES', { bytes_contents: [Buffer.from('hé')] })).toEqual(['hé']);
    expect(() => contentsToJsonData('x', 'FP32', { int_contents: [1] })).toThrow("input 'x': FP32 elements belong in contents.fp32_contents, got contents.int_contents");
    expect(() => contentsToJsonData('x', 'FP16', { fp32_contents: [1] })).toThrow('FP16 has no typed contents field');
  });

  it('keeps FP32 values exact through their shortest JSON form', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(-0), fc.float({ noNaN: true, noDefaultInfinity: true })), (value) => {
        const [json] = contentsToJsonData('x', 'FP32', { fp32_contents: [value] });
        expect(Object.is(Math.fround(json as number), Math.fround(value))).toBe(true);
      }),
    );
  });
});
