/**
 * Whether a shadow variant agrees with the primary: every output tensor has
 * the same shape and, row by row, the same arg-max (top-1 agreement, the
 * usual measure for classifiers). BYTES outputs (e.g. classification
 * strings) must be equal. Outputs come from `readInferOutputs`, so JSON and
 * binary answers compare alike; non-finite floats written as "NaN" /
 * "Infinity" / "-Infinity" in JSON count as the numbers they name.
 */
import type { ReadTensor } from './read-infer-response.ts';

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'boolean') return Number(value);
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return NaN;
}

function flat(data: unknown): unknown[] {
  return Array.isArray(data) ? (data.flat(Infinity) as unknown[]) : [];
}

/** Index of the largest value per row; NaN never wins. */
function argmaxRows(values: readonly number[], rows: number): number[] {
  const width = rows > 0 ? values.length / rows : 0;
  const result: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) if ((values[r * width + i] ?? NaN) > (values[r * width + best] ?? -Infinity) || Number.isNaN(values[r * width + best])) best = i;
    result.push(best);
  }
  return result;
}

export function outputsAgree(primary: readonly ReadTensor[] | undefined, shadow: readonly ReadTensor[] | undefined): boolean {
  if (!primary || !shadow || primary.length !== shadow.length) return false;
  return primary.every((ta, i) => {
    const tb = shadow[i];
    if (!tb || ta.name !== tb.name || JSON.stringify(ta.shape) !== JSON.stringify(tb.shape)) return false;
    const a = flat(ta.data);
    const b = flat(tb.data);
    if (ta.datatype === 'BYTES' || tb.datatype === 'BYTES') return ta.datatype === tb.datatype && JSON.stringify(a) === JSON.stringify(b);
    const rows = Array.isArray(ta.shape) && typeof ta.shape[0] === 'number' ? ta.shape[0] : 1;
    return JSON.stringify(argmaxRows(a.map(toNumber), rows)) === JSON.stringify(argmaxRows(b.map(toNumber), rows));
  });
}
