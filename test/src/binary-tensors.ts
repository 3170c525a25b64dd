/**
 * Client side of Triton's binary tensor extension for e2e tests and
 * benchmarks, written from the extension document (not the worker's code):
 * a JSON header of `Inference-Header-Content-Length` bytes, then raw
 * little-endian tensor bytes.
 */
export interface BinaryBody {
  body: Buffer;
  headers: Record<string, string>;
}

/** FP32 values as little-endian bytes. */
export function fp32Bytes(values: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i] as number, i * 4);
  return out;
}

export function binaryInferBody(header: unknown, parts: readonly Buffer[]): BinaryBody {
  const head = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([head, ...parts]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) },
  };
}

export interface BinaryOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  raw?: Buffer;
}

/** The JSON header and each binary output's bytes, in order. */
export function splitBinaryResponse(body: Buffer, headerLength: number): { header: Record<string, unknown>; outputs: BinaryOutput[] } {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs: Array<BinaryOutput & { parameters?: { binary_data_size?: number } }> };
  let offset = headerLength;
  const outputs = header.outputs.map((o) => {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) return o;
    const raw = body.subarray(offset, offset + size);
    offset += size;
    return { ...o, raw };
  });
  if (offset !== body.length) throw new Error(`binary response has ${body.length - offset} unexplained bytes`);
  return { header, outputs };
}

export function fp32Values(raw: Buffer): number[] {
  return Array.from({ length: raw.length / 4 }, (_, i) => raw.readFloatLE(i * 4));
}
