/**
 * Triton's classification extension: an output requested with
 * `parameters.classification: k` (alias `class_count`) comes back as BYTES, the k highest values of
 * each row as `"<value>:<index>[:<label>]"` (label from the model's label
 * file when it has one). Rows are the batch entries when the model
 * batches; otherwise the whole tensor is one row.
 */
import { badRequest } from '../http/service-error.ts';
import { fromHalfBits } from './half-float.ts';
import type { ResponseTensor } from './infer-response.ts';

function numericReader(tensor: ResponseTensor): (i: number) => number {
  const { datatype, data } = tensor;
  if (datatype === 'BYTES' || datatype === 'BOOL') {
    throw badRequest(`output '${tensor.name}': classification needs a numeric output, this one is ${datatype}`);
  }
  if (datatype === 'FP16') return (i) => fromHalfBits((data as Uint16Array)[i] as number);
  if (datatype === 'INT64' || datatype === 'UINT64') return (i) => Number((data as BigInt64Array)[i]);
  return (i) => (data as Float32Array)[i] as number;
}

/** Shortest text that reads back as the same element value. */
function formatValue(value: number, datatype: string): string {
  if (datatype !== 'FP32' && datatype !== 'FP16') return String(value);
  for (let p = 1; p < 9; p++) {
    const text = value.toPrecision(p);
    if (Math.fround(Number(text)) === value) return String(Number(text));
  }
  return String(value);
}

/** Higher first; NaN after every number; ties keep the lower index first. */
function compareDescending(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return b - a;
}

export function classify(tensor: ResponseTensor, classCount: number, labels: readonly string[] | undefined, batching: boolean): ResponseTensor {
  const read = numericReader(tensor);
  const rows = batching ? (tensor.shape[0] ?? 0) : 1;
  const width = rows === 0 ? 0 : tensor.data.length / rows;
  const k = Math.min(classCount, width);
  const out: string[] = [];
  const order = Array.from({ length: width }, (_, i) => i);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    order.sort((a, b) => compareDescending(read(base + a), read(base + b)) || a - b);
    for (let j = 0; j < k; j++) {
      const index = order[j] as number;
      const label = labels?.[index];
      out.push(`${formatValue(read(base + index), tensor.datatype)}:${index}${label === undefined ? '' : `:${label}`}`);
    }
    order.sort((a, b) => a - b);
  }
  return { name: tensor.name, datatype: 'BYTES', shape: batching ? [rows, k] : [k], data: out, ...(tensor.binary ? { binary: true } : {}) };
}
