import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleRepository } from '../samples/write-samples.ts';
import { captureLogs } from '../testing/worker-harness.ts';
import { writeFixedBatch } from '../testing/fixture-models.ts';
import { loadModel, ModelLoadError } from './load-model.ts';
import { copyFile } from 'node:fs/promises';

describe('model repository', () => {
  let repository: string;
  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-repo-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    await writeFixedBatch(repository);
  });
  afterAll(async () => {
    await rm(repository, { recursive: true, force: true });
  });

  /** A copy of seed-classifier v1 under `name` with the given config text. */
  async function variant(name: string, config: string | undefined, onnx = join(repository, 'seed-classifier', '1', 'model.onnx')): Promise<void> {
    await mkdir(join(repository, name, '1'), { recursive: true });
    await copyFile(onnx, join(repository, name, '1', 'model.onnx'));
    if (config !== undefined) await writeFile(join(repository, name, 'config.yaml'), config);
  }

  it('loads every numeric version, serving the latest by default, with the signature from the model and config', async () => {
    const { logger } = captureLogs();
    const model = await loadModel({ repository, model: 'seed-classifier', logger });
    try {
      expect([...model.versions.keys()]).toEqual([1, 2]);
      expect(model.latest.version).toBe(2);
      expect(model.latest.signature).toEqual({
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] }],
        maxBatchSize: 64,
      });
      expect(model.latest.provider).toBe('cpu');
    } finally {
      await model.close();
    }
  });

  it('loads only the versions it is asked for, and refuses versions that do not exist', async () => {
    const { logger } = captureLogs();
    const model = await loadModel({ repository, model: 'seed-classifier', logger, versions: [1] });
    await model.close();
    expect([...model.versions.keys()]).toEqual([1]);
    expect(model.latest.version).toBe(1);
    await expect(loadModel({ repository, model: 'seed-classifier', logger, versions: [3] })).rejects.toThrowError(/version\(s\) 3 not found \(has 1, 2\)/);
  });

  it('runs one session per instance, in parallel threads, with the same results', async () => {
    await variant('two-instances', 'max_batch_size: 4\ninstance_count: 2\n');
    const { logger } = captureLogs();
    const model = await loadModel({ repository, model: 'two-instances', logger });
    try {
      expect(model.latest.sessions).toHaveLength(2);
      const request = (x: number) => ({ inputs: [{ name: 'features', datatype: 'FP32' as const, shape: [4, 2], data: new Float32Array(8).fill(x) }], outputs: ['probabilities'], batchSize: 4 });
      const results = await Promise.all([0.1, 0.1, 0.1, 0.1].map((x) => model.latest.batcher.submit(request(x))));
      const first = Array.from(results[0]?.get('probabilities')?.data as Float32Array);
      for (const r of results) expect(Array.from(r.get('probabilities')?.data as Float32Array)).toEqual(first);
    } finally {
      await model.close();
    }
  });

  it('falls back from an unavailable CUDA provider to CPU with a logged warning', async () => {
    await variant('gpu-preferred', 'max_batch_size: 4\nexecution_providers: [cuda, cpu]\n');
    const { logger, lines } = captureLogs();
    const model = await loadModel({ repository, model: 'gpu-preferred', logger });
    await model.close();
    expect(model.latest.provider).toBe('cpu');
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ provider: 'cuda', fallback: 'cpu', msg: 'execution provider cuda is not available; using cpu' });
    expect(String(warnings[0]?.reason)).toMatch(/libonnxruntime_providers_cuda\.so is not installed/);
    expect(lines.some((l) => l.msg === 'execution provider selected' && l.provider === 'cpu')).toBe(true);
  });

  it('falls back to CPU even when CPU is not listed, and says so', async () => {
    await variant('gpu-only', 'max_batch_size: 4\nexecution_providers: [cuda]\n');
    const { logger, lines } = captureLogs();
    const model = await loadModel({ repository, model: 'gpu-only', logger });
    await model.close();
    expect(model.latest.provider).toBe('cpu');
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['execution provider cuda is not available; using cpu']);
  });

  it('refuses a batching config on a model with a fixed first dimension, naming the file and the fix', async () => {
    const { logger } = captureLogs();
    const failure = loadModel({ repository, model: 'fixed-batch', logger });
    await expect(failure).rejects.toBeInstanceOf(ModelLoadError);
    await expect(failure).rejects.toThrowError(/fixed-batch\/1\/model\.onnx: config sets max_batch_size 4 but input 'features' has a fixed first dimension of 1.*dynamic batch axis/);
  });

  it('reports every invalid config field with its path and the file', async () => {
    await variant('bad-config', 'max_batch_size: -1\ndynamic_batching:\n  max_queue_size: "lots"\nexecution_providers: [tpu]\nsurprise: true\n');
    const { logger } = captureLogs();
    const error = await loadModel({ repository, model: 'bad-config', logger }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(ModelLoadError);
    const message = (error as Error).message;
    expect(message).toContain(join(repository, 'bad-config', 'config.yaml'));
    expect(message).toMatch(/max_batch_size:/);
    expect(message).toMatch(/dynamic_batching\.max_queue_size:/);
    expect(message).toMatch(/execution_providers\.0:/);
    expect(message).toMatch(/surprise/);
  });

  it('refuses YAML that does not parse, naming the file', async () => {
    await variant('bad-yaml', 'max_batch_size: [\n');
    const { logger } = captureLogs();
    await expect(loadModel({ repository, model: 'bad-yaml', logger })).rejects.toThrowError(/bad-yaml\/config\.yaml: not valid YAML/);
  });

  it('refuses a file that is not an ONNX model, naming it', async () => {
    await mkdir(join(repository, 'corrupt', '3'), { recursive: true });
    await writeFile(join(repository, 'corrupt', '3', 'model.onnx'), 'not a model');
    const { logger } = captureLogs();
    await expect(loadModel({ repository, model: 'corrupt', logger })).rejects.toThrowError(/corrupt\/3\/model\.onnx: ONNX Runtime cannot load the model/);
  });

  it('refuses overrides that contradict the model', async () => {
    await variant('bad-override', 'max_batch_size: 4\ninputs:\n  - name: features\n    dims: [3]\n');
    await variant('unknown-override', 'max_batch_size: 4\noutputs:\n  - name: logits\n');
    const { logger } = captureLogs();
    await expect(loadModel({ repository, model: 'bad-override', logger })).rejects.toThrowError(/dims \[3\] contradict the model's \[2\]/);
    await expect(loadModel({ repository, model: 'unknown-override', logger })).rejects.toThrowError(/output 'logits', which the model does not have/);
  });

  it('refuses unknown models and empty model folders', async () => {
    const { logger } = captureLogs();
    await expect(loadModel({ repository, model: 'nope', logger })).rejects.toThrowError(/model 'nope' is not in repository/);
    await mkdir(join(repository, 'empty', 'latest'), { recursive: true });
    await expect(loadModel({ repository, model: 'empty', logger })).rejects.toThrowError(/no version folders with a model\.onnx/);
  });
});
