/**
 * Loads one model from a Triton-style repository: every numeric version
 * under `<repo>/<model>/`, each with its own ONNX Runtime session, checked
 * signature, warm-up run and dynamic batcher.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import type { Logger } from '@switchyard/observability/logger';
import { parse as parseYaml } from 'yaml';
import { DynamicBatcher, type BatchObserver } from '../batching/dynamic-batcher.ts';
import { ModelStatistics } from '../metrics/model-statistics.ts';
import type { ShapedData } from '../batching/tensor-batch.ts';
import { DATATYPE_INFO, type Datatype } from '../protocol/datatypes.ts';
import { VARIABLE_DIM, type ModelSignature } from '../protocol/tensor-spec.ts';
import { createSession, type CreatedSession, type ThreadedSession } from '../runtime/create-session.ts';
import type { WireTensor } from '../runtime/session-protocol.ts';
import { formatIssues, ModelConfigSchema, type ModelConfig, type ExecutionProvider } from './model-config.ts';
import { deriveSignature } from './model-signature.ts';

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

export interface ModelVersion {
  version: number;
  path: string;
  signature: ModelSignature;
  provider: ExecutionProvider;
  batcher: DynamicBatcher;
  /** One session (and thread) per instance; `instance_count` of them. */
  sessions: readonly ThreadedSession[];
  /** Triton-style inference statistics of this version. */
  statistics: ModelStatistics;
  /** Releases every session of this version. */
  release(): Promise<void>;
}

export interface LoadedModel {
  name: string;
  config: ModelConfig;
  /** Ascending by version. */
  versions: ReadonlyMap<number, ModelVersion>;
  latest: ModelVersion;
  /** Class labels per output name, from the outputs' `label_filename`. */
  labels: ReadonlyMap<string, readonly string[]>;
  /** Waits for queued work, then releases every session. */
  close(): Promise<void>;
}

export interface LoadModelOptions {
  repository: string;
  model: string;
  logger: Logger;
  /** Load only these versions (all by default). */
  versions?: readonly number[];
  /** Receives queue-wait and batch measurements per version. */
  observerFor?: (version: number) => BatchObserver;
}

const VERSION_DIR = /^[1-9]\d{0,8}$/;

async function readConfig(path: string): Promise<ModelConfig> {
  if (!existsSync(path)) return ModelConfigSchema.parse({});
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  const result = ModelConfigSchema.safeParse(raw ?? {});
  if (!result.success) throw new ModelLoadError(`${path}: invalid model config:\n${formatIssues(result.error)}`);
  return result.data;
}

function toWire(datatype: Datatype, { data, shape }: ShapedData): WireTensor {
  return { type: DATATYPE_INFO[datatype].ortType, data, dims: shape };
}

function warmupInputs(signature: ModelSignature): Record<string, WireTensor> {
  const feeds: Record<string, WireTensor> = {};
  for (const input of signature.inputs) {
    const shape = input.shape.map((d, i) => (i === 0 && signature.maxBatchSize > 0 ? signature.maxBatchSize : d === VARIABLE_DIM ? 1 : d));
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[input.name] = toWire(input.datatype, { shape, data: DATATYPE_INFO[input.datatype].allocate(size) });
  }
  return feeds;
}

async function loadVersion(
  dir: string, version: number, name: string, config: ModelConfig, options: LoadModelOptions,
): Promise<ModelVersion> {
  const path = join(dir, String(version), 'model.onnx');
  const sessionOptions = {
    providers: config.execution_providers,
    intraOpThreads: config.threads.intra_op,
    interOpThreads: config.threads.inter_op,
    allowSpinning: config.threads.allow_spinning,
    logger: options.logger,
  };
  let created: CreatedSession;
  try {
    created = await createSession(path, sessionOptions);
  } catch (error) {
    throw new ModelLoadError(`${path}: ONNX Runtime cannot load the model: ${(error as Error).message}`);
  }
  const { provider } = created;
  const sessions: ThreadedSession[] = [created.session];
  const release = async () => {
    await Promise.all(sessions.map((s) => s.release()));
  };
  try {
    // Further instances use the provider the first one settled on.
    for (let i = 1; i < config.instance_count; i++) sessions.push((await createSession(path, { ...sessionOptions, providers: [provider] })).session);
    const signature = deriveSignature(created.session, config);
    await Promise.all(sessions.map((session) => session.run(warmupInputs(signature))));
    // The batcher runs at most `instance_count` batches at once, so an idle session is always there.
    const idle = [...sessions];
    const statistics = new ModelStatistics();
    const external = options.observerFor?.(version);
    const observer: BatchObserver = {
      queueWait(seconds) {
        statistics.queued(seconds);
        external?.queueWait(seconds);
      },
      batchExecuted(rows, requests, seconds) {
        external?.batchExecuted(rows, requests, seconds);
      },
      batchPhases(rows, requests, phases) {
        statistics.executed(rows, requests, phases);
        external?.batchPhases?.(rows, requests, phases);
      },
      configured(limits) {
        external?.configured?.(limits);
      },
    };
    const batcher = new DynamicBatcher({
      maxBatchSize: config.max_batch_size,
      maxQueueDelayMicros: config.dynamic_batching.max_queue_delay_microseconds,
      maxQueueSize: config.dynamic_batching.max_queue_size,
      instanceCount: config.instance_count,
      tracer: trace.getTracer('switchyard-model-worker'),
      spanAttributes: { 'switchyard.model': name, 'switchyard.model_version': String(version), 'switchyard.execution_provider': provider },
      observer,
      async execute(inputs) {
        const feeds: Record<string, WireTensor> = {};
        for (const [inputName, tensor] of inputs) feeds[inputName] = toWire(tensor.datatype, tensor);
        const session = idle.pop() as ThreadedSession;
        try {
          const results = await session.run(feeds);
          const outputs = new Map<string, ShapedData>();
          for (const [outputName, value] of Object.entries(results)) outputs.set(outputName, { shape: value.dims, data: value.data });
          return outputs;
        } finally {
          idle.push(session);
        }
      },
    });
    options.logger.info({ model: name, version, provider, max_batch_size: config.max_batch_size, instances: sessions.length }, 'model version ready');
    return { version, path, signature, provider, batcher, sessions, statistics, release };
  } catch (error) {
    await release();
    throw new ModelLoadError(`${path}: ${(error as Error).message}`);
  }
}

async function readLabels(dir: string, config: ModelConfig): Promise<Map<string, readonly string[]>> {
  const labels = new Map<string, readonly string[]>();
  for (const output of config.outputs ?? []) {
    if (!output.label_filename) continue;
    const path = join(dir, output.label_filename);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ModelLoadError(`${path}: cannot read the label file of output '${output.name}': ${(error as Error).message}`);
    }
    const lines = text.split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    labels.set(output.name, lines);
  }
  return labels;
}

/** Loads and warms every version of `model`. Throws {@link ModelLoadError} naming the file at fault. */
export async function loadModel(options: LoadModelOptions): Promise<LoadedModel> {
  const { repository, model } = options;
  const dir = join(repository, model);
  if (!existsSync(dir)) throw new ModelLoadError(`${dir}: model '${model}' is not in repository ${repository}`);
  const config = await readConfig(join(dir, 'config.yaml'));
  const labels = await readLabels(dir, config);
  const entries = await readdir(dir, { withFileTypes: true });
  const versionNumbers = entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name) && existsSync(join(dir, e.name, 'model.onnx')))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
  if (versionNumbers.length === 0) throw new ModelLoadError(`${dir}: no version folders with a model.onnx (expected ${dir}/<version>/model.onnx)`);
  if (options.versions) {
    const missing = options.versions.filter((v) => !versionNumbers.includes(v));
    if (missing.length) throw new ModelLoadError(`${dir}: version(s) ${missing.join(', ')} not found (has ${versionNumbers.join(', ')})`);
    versionNumbers.splice(0, versionNumbers.length, ...versionNumbers.filter((v) => options.versions?.includes(v)));
  }

  const versions = new Map<number, ModelVersion>();
  try {
    for (const version of versionNumbers) versions.set(version, await loadVersion(dir, version, model, config, options));
  } catch (error) {
    await Promise.all([...versions.values()].map((v) => v.release()));
    throw error;
  }
  const latest = versions.get(versionNumbers.at(-1) as number) as ModelVersion;
  let closing: Promise<void> | undefined;
  return {
    name: model,
    config,
    versions,
    latest,
    labels,
    close() {
      closing ??= (async () => {
        const all = [...versions.values()];
        await Promise.all(all.map((v) => v.batcher.idle()));
        await Promise.all(all.map((v) => v.release()));
      })();
      return closing;
    },
  };
}
