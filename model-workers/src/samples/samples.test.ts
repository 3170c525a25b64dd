import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predict } from './dense-network.ts';
import { mlpToOnnx } from './mlp-model.ts';
import { trainSeedClassifier, wideMlpNetwork, WIDE_MLP_WIDTHS } from './sample-networks.ts';
import { circleDataset } from './train-classifier.ts';
import { IMAGE_STATS_SHAPE, imageStatsReference } from './image-stats-model.ts';
import { hasSampleModels, writeSampleRepository, IMAGE_STATS, SEED_CLASSIFIER } from './write-samples.ts';
import { seededUniform } from './seeded-random.ts';

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs((actual[i] ?? NaN) - (expected[i] ?? NaN))).toBeLessThan(tolerance);
}

describe('sample models', () => {
  let repository: string;
  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-samples-'));
  });
  afterAll(async () => {
    await rm(repository, { recursive: true, force: true });
  });

  it('trains seed-classifier v1 and v2 to high training accuracy, v2 differing from v1', () => {
    const v1 = trainSeedClassifier(1);
    const v2 = trainSeedClassifier(2);
    expect(v1.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(v2.accuracy).toBeGreaterThanOrEqual(v1.accuracy);
    expect(v1.network.layers[0]?.outputs).toBe(10);
    expect(v2.network.layers[0]?.outputs).toBe(16);
  });

  it('is deterministic: the same seed writes the same classifier bytes', () => {
    const a = mlpToOnnx(trainSeedClassifier(1).network, { inputName: 'features', outputName: 'probabilities' });
    const b = mlpToOnnx(trainSeedClassifier(1).network, { inputName: 'features', outputName: 'probabilities' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('writes a Triton-style repository that ONNX Runtime loads, matching the TypeScript reference', async () => {
    const summary = await writeSampleRepository(repository);
    expect(hasSampleModels(repository)).toBe(true);
    expect(summary.map((s) => `${s.model}/${s.version}`)).toEqual(['seed-classifier/1', 'seed-classifier/2', 'wide-mlp/1', 'image-stats/1']);
    const config = await readFile(join(repository, SEED_CLASSIFIER, 'config.yaml'), 'utf8');
    expect(config).toContain('max_batch_size: 64');
    expect(config).toContain('label_filename: labels.txt');
    expect(await readFile(join(repository, SEED_CLASSIFIER, 'labels.txt'), 'utf8')).toBe('outside\ninside\n');

    const points = circleDataset(100, 7);
    for (const version of [1, 2] as const) {
      const session = await ort.InferenceSession.create(join(repository, SEED_CLASSIFIER, String(version), 'model.onnx'));
      const input = new Float32Array(points.flatMap((p) => p.features));
      const { probabilities } = await session.run({ features: new ort.Tensor('float32', input, [points.length, 2]) });
      const network = trainSeedClassifier(version).network;
      const expected = points.flatMap((p) => [...predict(network, p.features)]);
      expectClose(probabilities?.data as Float32Array, expected, 1e-5);
      await session.release();
    }
  });

  it('builds wide-mlp with the declared widths and a dynamic batch dimension, matching the reference', async () => {
    const network = wideMlpNetwork();
    expect(network.layers.map((l) => l.inputs).concat(network.layers.at(-1)?.outputs ?? 0)).toEqual([...WIDE_MLP_WIDTHS]);
    const session = await ort.InferenceSession.create(join(repository, 'wide-mlp', '1', 'model.onnx'));
    const input = session.inputMetadata[0];
    expect(input?.isTensor && input.shape).toEqual(['batch', 512]);
    const uniform = seededUniform(5);
    const rows = [Array.from({ length: 512 }, () => uniform() * 2 - 1), Array.from({ length: 512 }, () => uniform())];
    const { probabilities } = await session.run({ input: new ort.Tensor('float32', new Float32Array(rows.flat()), [2, 512]) });
    const expected = rows.flatMap((row) => [...predict(network, new Float32Array(row))]);
    expectClose(probabilities?.data as Float32Array, expected, 1e-4);
    await session.release();
  });

  it('builds image-stats: [batch, 3, 64, 64] reduced to per-channel mean, min and max, matching the reference', async () => {
    const session = await ort.InferenceSession.create(join(repository, IMAGE_STATS, '1', 'model.onnx'));
    const input = session.inputMetadata[0];
    expect(input?.isTensor && input.shape).toEqual(['batch', ...IMAGE_STATS_SHAPE]);
    const uniform = seededUniform(11);
    const pixels = Float32Array.from({ length: 2 * 3 * 64 * 64 }, () => uniform() * 2 - 1);
    const outputs = await session.run({ image: new ort.Tensor('float32', pixels, [2, ...IMAGE_STATS_SHAPE]) });
    const reference = imageStatsReference(pixels, 2);
    for (const name of ['mean', 'min', 'max'] as const) {
      expect(outputs[name]?.dims).toEqual([2, 3]);
      expectClose(outputs[name]?.data as Float32Array, reference[name], 1e-5);
    }
    await session.release();
  });
});
