/**
 * Concatenates request tensors along dim 0 into one batch, and slices batch
 * outputs back into per-request views (no copies on the way out).
 */
import type { TensorStorage } from '../protocol/datatypes.ts';

export interface ShapedData {
  shape: readonly number[];
  data: TensorStorage;
}

/** Joins tensors of equal trailing shape along dim 0. */
export function concatRows(parts: readonly ShapedData[], allocate: (size: number) => TensorStorage): ShapedData {
  const first = parts[0];
  if (!first) throw new Error('concatRows needs at least one tensor');
  if (parts.length === 1) return first;
  let rows = 0;
  let size = 0;
  for (const part of parts) {
    rows += part.shape[0] ?? 0;
    size += part.data.length;
  }
  const data = allocate(size);
  let offset = 0;
  for (const part of parts) {
    if (Array.isArray(data)) {
      for (let i = 0; i < part.data.length; i++) data[offset + i] = (part.data as string[])[i] ?? '';
    } else {
      (data as Float32Array).set(part.data as Float32Array, offset);
    }
    offset += part.data.length;
  }
  return { shape: [rows, ...first.shape.slice(1)], data };
}

/** Rows [start, start + count) of a batched tensor, as a view where possible. */
export function sliceRows(batch: ShapedData, start: number, count: number): ShapedData {
  const totalRows = batch.shape[0] ?? 0;
  if (start === 0 && count === totalRows) return batch;
  const rowSize = totalRows === 0 ? 0 : batch.data.length / totalRows;
  const from = start * rowSize;
  const to = (start + count) * rowSize;
  const data = Array.isArray(batch.data) ? batch.data.slice(from, to) : (batch.data as Float32Array).subarray(from, to);
  return { shape: [count, ...batch.shape.slice(1)], data };
}
