/**
 * Reads an infer response in either of its forms — JSON, or a JSON header
 * followed by binary tensor data (`Inference-Header-Content-Length`),
 * possibly gzip/deflate coded — into output tensors with plain `data`
 * arrays, so the shadow comparison sees both forms alike. Raw bytes are
 * little-endian; BYTES elements carry a 4-byte length each.
 */
export interface ReadTensor {
  name: unknown;
  datatype: unknown;
  shape: unknown;
  data: unknown;
}

const utf8 = new TextDecoder();

type Reader = (view: DataView, offset: number) => number | bigint | boolean;
const READERS: Record<string, [number, Reader]> = {
  BOOL: [1, (v, o) => v.getUint8(o) !== 0],
  UINT8: [1, (v, o) => v.getUint8(o)],
  INT8: [1, (v, o) => v.getInt8(o)],
  UINT16: [2, (v, o) => v.getUint16(o, true)],
  INT16: [2, (v, o) => v.getInt16(o, true)],
  FP16: [2, (v, o) => halfToNumber(v.getUint16(o, true))],
  UINT32: [4, (v, o) => v.getUint32(o, true)],
  INT32: [4, (v, o) => v.getInt32(o, true)],
  FP32: [4, (v, o) => v.getFloat32(o, true)],
  UINT64: [8, (v, o) => v.getBigUint64(o, true)],
  INT64: [8, (v, o) => v.getBigInt64(o, true)],
  FP64: [8, (v, o) => v.getFloat64(o, true)],
};

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Elements of one raw tensor; undefined when the bytes do not fit the datatype. */
export function decodeRaw(datatype: unknown, bytes: Uint8Array): unknown[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let o = 0; o < bytes.byteLength;) {
      if (o + 4 > bytes.byteLength) return undefined;
      const length = view.getUint32(o, true);
      if (o + 4 + length > bytes.byteLength) return undefined;
      out.push(utf8.decode(bytes.subarray(o + 4, o + 4 + length)));
      o += 4 + length;
    }
    return out;
  }
  const entry = typeof datatype === 'string' ? READERS[datatype] : undefined;
  if (!entry || bytes.byteLength % entry[0] !== 0) return undefined;
  const [width, read] = entry;
  return Array.from({ length: bytes.byteLength / width }, (_, i) => read(view, i * width));
}

async function decoded(body: Uint8Array<ArrayBuffer>, coding: string | null): Promise<Uint8Array> {
  const format = coding?.trim().toLowerCase();
  if (!format || format === 'identity') return body;
  if (format !== 'gzip' && format !== 'deflate') return body;
  return new Uint8Array(await new Response(new Blob([body]).stream().pipeThrough(new DecompressionStream(format))).arrayBuffer());
}

/** The outputs of an infer response body; undefined when it is not one. */
export async function readInferOutputs(body: Uint8Array<ArrayBuffer>, headers: { get(name: string): string | null }): Promise<ReadTensor[] | undefined> {
  const bytes = await decoded(body, headers.get('content-encoding'));
  const headerLength = headers.get('inference-header-content-length');
  const length = headerLength === null ? bytes.byteLength : Number(headerLength);
  if (!Number.isSafeInteger(length) || length < 0 || length > bytes.byteLength) return undefined;
  const json = JSON.parse(utf8.decode(bytes.subarray(0, length))) as { outputs?: unknown };
  if (!Array.isArray(json.outputs)) return undefined;
  let offset = length;
  const outputs: ReadTensor[] = [];
  for (const raw of json.outputs as Array<Record<string, unknown>>) {
    const size = (raw.parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
    if (typeof size !== 'number') {
      outputs.push({ name: raw.name, datatype: raw.datatype, shape: raw.shape, data: raw.data });
      continue;
    }
    if (offset + size > bytes.byteLength) return undefined;
    const data = decodeRaw(raw.datatype, bytes.subarray(offset, offset + size));
    if (!data) return undefined;
    offset += size;
    outputs.push({ name: raw.name, datatype: raw.datatype, shape: raw.shape, data });
  }
  return outputs;
}
