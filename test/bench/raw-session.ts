/** Raw in-process `session.run` throughput: the ceiling the worker is measured against. */
import ort from 'onnxruntime-node';
import { summarize, type Measurement } from './measurement.ts';

export async function measureRawSession(modelPath: string, inputName: string, width: number, batch: number, durationMs: number): Promise<Measurement> {
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
  const data = Float32Array.from({ length: batch * width }, (_, i) => Math.sin(i));
  const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, width]) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const latencies: number[] = [];
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const t0 = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t0);
  }
  const elapsedS = (performance.now() - started) / 1000;
  await session.release();
  return summarize(latencies.length * batch, elapsedS, latencies);
}
