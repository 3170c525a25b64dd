/**
 * Open Inference Protocol datatypes and how each maps to an ONNX Runtime
 * tensor type and its backing storage.
 */
import type { Tensor } from 'onnxruntime-node';

export const DATATYPES = [
  'BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/** The storage a tensor of a datatype lives in. */
export type TensorStorage =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array
  | BigInt64Array | BigUint64Array | string[];

/** How JSON elements of a datatype are checked and stored. */
export type ElementKind = 'float' | 'half' | 'int' | 'bigint' | 'bool' | 'string';

export interface DatatypeInfo {
  datatype: Datatype;
  ortType: Tensor.Type;
  kind: ElementKind;
  /** Inclusive range of integer kinds. */
  min: number | bigint;
  max: number | bigint;
  allocate(size: number): TensorStorage;
}

function info(
  datatype: Datatype, ortType: Tensor.Type, kind: ElementKind, allocate: (size: number) => TensorStorage,
  min: number | bigint = -Infinity, max: number | bigint = Infinity,
): DatatypeInfo {
  return { datatype, ortType, kind, allocate, min, max };
}

export const DATATYPE_INFO: Readonly<Record<Datatype, DatatypeInfo>> = {
  BOOL: info('BOOL', 'bool', 'bool', (n) => new Uint8Array(n)),
  UINT8: info('UINT8', 'uint8', 'int', (n) => new Uint8Array(n), 0, 0xff),
  UINT16: info('UINT16', 'uint16', 'int', (n) => new Uint16Array(n), 0, 0xffff),
  UINT32: info('UINT32', 'uint32', 'int', (n) => new Uint32Array(n), 0, 0xffffffff),
  UINT64: info('UINT64', 'uint64', 'bigint', (n) => new BigUint64Array(n), 0n, 2n ** 64n - 1n),
  INT8: info('INT8', 'int8', 'int', (n) => new Int8Array(n), -0x80, 0x7f),
  INT16: info('INT16', 'int16', 'int', (n) => new Int16Array(n), -0x8000, 0x7fff),
  INT32: info('INT32', 'int32', 'int', (n) => new Int32Array(n), -0x80000000, 0x7fffffff),
  INT64: info('INT64', 'int64', 'bigint', (n) => new BigInt64Array(n), -(2n ** 63n), 2n ** 63n - 1n),
  FP16: info('FP16', 'float16', 'half', (n) => new Uint16Array(n)),
  FP32: info('FP32', 'float32', 'float', (n) => new Float32Array(n)),
  FP64: info('FP64', 'float64', 'float', (n) => new Float64Array(n)),
  BYTES: info('BYTES', 'string', 'string', (n) => new Array<string>(n).fill('')),
};

const BY_ORT_TYPE = new Map<string, Datatype>(Object.values(DATATYPE_INFO).map((d) => [d.ortType, d.datatype]));

/** The protocol datatype of an ONNX Runtime tensor type, if it has one. */
export function datatypeOfOrtType(ortType: string): Datatype | undefined {
  return BY_ORT_TYPE.get(ortType);
}

export function isDatatype(value: unknown): value is Datatype {
  return typeof value === 'string' && Object.hasOwn(DATATYPE_INFO, value);
}
