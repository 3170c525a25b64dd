/**
 * `image-stats`: an image-shaped FP32 input [batch, 3, 64, 64] reduced to
 * per-channel mean, minimum and maximum ([batch, 3] each). The payload
 * (48 KiB of floats per row) dominates the compute, which makes it the
 * model to compare transports (JSON, binary tensors, gRPC) on.
 */
import { buildModel, ONNX_TYPE } from './onnx-builder.ts';

export const IMAGE_STATS_SHAPE = [3, 64, 64] as const;
export const IMAGE_STATS_OUTPUTS = ['mean', 'min', 'max'] as const;

export function imageStatsModel(): Uint8Array {
  const reductions = { mean: 'ReduceMean', min: 'ReduceMin', max: 'ReduceMax' } as const;
  return buildModel({
    graphName: 'image_stats',
    inputs: [{ name: 'image', elementType: ONNX_TYPE.FLOAT, shape: ['batch', ...IMAGE_STATS_SHAPE] }],
    outputs: IMAGE_STATS_OUTPUTS.map((name) => ({ name, elementType: ONNX_TYPE.FLOAT, shape: ['batch', 3] })),
    nodes: IMAGE_STATS_OUTPUTS.map((name) => ({ opType: reductions[name], inputs: ['image'], outputs: [name], attributes: { axes: [2, 3], keepdims: 0 } })),
  });
}

/** The reference the tests check ONNX Runtime against: per row and channel, [mean, min, max]. */
export function imageStatsReference(pixels: Float32Array, rows: number): { mean: number[]; min: number[]; max: number[] } {
  const plane = IMAGE_STATS_SHAPE[1] * IMAGE_STATS_SHAPE[2];
  const result = { mean: [] as number[], min: [] as number[], max: [] as number[] };
  for (let r = 0; r < rows; r++) {
    for (let ch = 0; ch < 3; ch++) {
      const start = (r * 3 + ch) * plane;
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let i = start; i < start + plane; i++) {
        const v = pixels[i] as number;
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      result.mean.push(sum / plane);
      result.min.push(min);
      result.max.push(max);
    }
  }
  return result;
}
