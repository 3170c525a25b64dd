import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outputsAgree } from './compare-outputs.ts';
import { readInferOutputs } from './read-infer-response.ts';

const headers = (entries: Record<string, string> = {}) => new Headers(entries);

/** The same two-row FP32 answer as JSON and as a binary-extension body. */
function answers(values: number[]) {
  const json = Buffer.from(JSON.stringify({ model_name: 'm', model_version: '1', outputs: [{ name: 'p', datatype: 'FP32', shape: [2, 2], data: values }] }));
  const head = Buffer.from(JSON.stringify({ model_name: 'm', model_version: '1', outputs: [{ name: 'p', datatype: 'FP32', shape: [2, 2], parameters: { binary_data_size: 16 } }] }));
  const raw = Buffer.alloc(16);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return { json, binary: Buffer.concat([head, raw]), headerLength: head.length };
}

describe('shadow output comparison', () => {
  it('reads JSON, binary and gzip-coded answers to the same tensors, so either form agrees with the other', async () => {
    const { json, binary, headerLength } = answers([0.25, 0.75, 0.5, -1]);
    const fromJson = await readInferOutputs(new Uint8Array(json), headers());
    const fromBinary = await readInferOutputs(new Uint8Array(binary), headers({ 'inference-header-content-length': String(headerLength) }));
    const fromGzip = await readInferOutputs(new Uint8Array(gzipSync(binary)), headers({ 'inference-header-content-length': String(headerLength), 'content-encoding': 'gzip' }));
    expect(fromBinary).toEqual(fromJson);
    expect(fromGzip).toEqual(fromJson);
    expect(outputsAgree(fromJson, fromBinary)).toBe(true);
  });

  it('disagrees when a row\'s arg-max differs, in either form', async () => {
    const a = answers([0.25, 0.75, 0.5, -1]);
    const b = answers([0.75, 0.25, 0.5, -1]);
    const primary = await readInferOutputs(new Uint8Array(a.binary), headers({ 'inference-header-content-length': String(a.headerLength) }));
    const shadow = await readInferOutputs(new Uint8Array(b.json), headers());
    expect(outputsAgree(primary, shadow)).toBe(false);
  });

  it('reads "NaN" and infinities written as strings as the numbers they name', () => {
    const tensor = (data: unknown[]) => [{ name: 'p', datatype: 'FP32', shape: [1, 3], data }];
    expect(outputsAgree(tensor(['-Infinity', 'Infinity', 0]), tensor([-5, Infinity, 1]))).toBe(true);
    expect(outputsAgree(tensor(['Infinity', 'NaN', 0]), tensor([0, 0, 1]))).toBe(false);
  });

  it('compares BYTES outputs (classification strings) for equality', () => {
    const bytes = (data: string[]) => [{ name: 'p', datatype: 'BYTES', shape: [1, 1], data }];
    expect(outputsAgree(bytes(['0.9:1:inside']), bytes(['0.9:1:inside']))).toBe(true);
    expect(outputsAgree(bytes(['0.9:1:inside']), bytes(['0.8:0:outside']))).toBe(false);
  });

  it('any FP32 values read the same from JSON and from binary', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 4, maxLength: 4 }), async (values) => {
      const { json, binary, headerLength } = answers(values.map(Math.fround));
      const fromJson = await readInferOutputs(new Uint8Array(json), headers());
      const fromBinary = await readInferOutputs(new Uint8Array(binary), headers({ 'inference-header-content-length': String(headerLength) }));
      expect(outputsAgree(fromJson, fromBinary)).toBe(true);
    }));
  });
});
