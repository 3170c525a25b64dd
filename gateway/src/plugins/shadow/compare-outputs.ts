/**
 * Whether a shadow variant agrees with the primary: every output tensor has
 * the same shape and, row by row, the same arg-max (top-1 agreement, the
 * usual measure for classifiers).
 */
interface Tensor {
  name?: unknown;
  shape?: unknown;
  data?: unknown;
}

function outputsOf(body: unknown): Tensor[] | undefined {
  const outputs = (body as { outputs?: unknown } | null)?.outputs;
  return Array.isArray(outputs) ? (outputs as Tensor[]) : undefined;
}

function flat(data: unknown): number[] {
  return (Array.isArray(data) ? data.flat(Infinity) : []) as number[];
}

function argmaxRows(values: number[], rows: number): number[] {
  const width = rows > 0 ? values.length / rows : 0;
  const result: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let i = 1; i < width; i++) if ((values[r * width + i] ?? -Infinity) > (values[r * width + best] ?? -Infinity)) best = i;
    result.push(best);
  }
  return result;
}

export function outputsAgree(primary: unknown, shadow: unknown): boolean {
  const a = outputsOf(primary);
  const b = outputsOf(shadow);
  if (!a || !b || a.length !== b.length) return false;
  return a.every((ta, i) => {
    const tb = b[i];
    if (!tb || ta.name !== tb.name || JSON.stringify(ta.shape) !== JSON.stringify(tb.shape)) return false;
    const rows = Array.isArray(ta.shape) && typeof ta.shape[0] === 'number' ? ta.shape[0] : 1;
    return JSON.stringify(argmaxRows(flat(ta.data), rows)) === JSON.stringify(argmaxRows(flat(tb.data), rows));
  });
}
