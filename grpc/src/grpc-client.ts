/**
 * A small promise-based client of `inference.GRPCInferenceService`, used by
 * the tests, the benchmark and the README's example. Any gRPC client of the
 * Open Inference Protocol (Triton's, KServe's) works the same way.
 */
import { credentials, Metadata, type CallOptions, type Client, type ServiceError } from '@grpc/grpc-js';
import type { ModelInferRequest, ModelInferResponse, ModelMetadataResponse, ModelRef, ServerMetadataResponse } from './messages.ts';
import { inferenceService } from './service-definition.ts';

export type { InferTensorContents, ModelInferRequest, ModelInferResponse, ModelMetadataResponse, ServerMetadataResponse } from './messages.ts';
export { rawToValues, valuesToRaw } from './tensor-codec.ts';
export { retryDelayOf } from './grpc-status.ts';
export { inferenceService } from './service-definition.ts';
export { status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';

export interface StatisticDuration {
  count: string;
  ns: string;
}

export interface ModelStatisticsResponse {
  model_stats: Array<{
    name: string;
    version: string;
    last_inference: string;
    inference_count: string;
    execution_count: string;
    inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss', StatisticDuration>;
    batch_stats: Array<{ batch_size: string } & Record<'compute_input' | 'compute_infer' | 'compute_output', StatisticDuration>>;
  }>;
}

/** Triton's model configuration, as far as `model_config.proto` declares it (enums by name, 64-bit integers as strings). */
export interface ModelConfig {
  name: string;
  platform: string;
  backend: string;
  version_policy: { policy_choice?: 'latest' | 'all' | 'specific'; latest?: { num_versions: number } | null; all?: object | null; specific?: { versions: string[] } | null } | null;
  max_batch_size: number;
  input: Array<{ name: string; data_type: string; format: string; dims: string[] }>;
  output: Array<{ name: string; data_type: string; dims: string[]; label_filename: string }>;
  instance_group: Array<{ name: string; count: number; kind: string }>;
  scheduling_choice?: 'dynamic_batching';
  dynamic_batching?: { preferred_batch_size: number[]; max_queue_delay_microseconds: string; default_queue_policy: { max_queue_size: number } | null } | null;
  parameters: Record<string, { string_value: string }>;
}

export interface RepositoryIndexResponse {
  models: Array<{ name: string; version: string; state: string; reason: string }>;
}

/** Per call: metadata as plain pairs (e.g. `{ authorization: 'Bearer …' }`) and an optional deadline. */
export interface CallSettings {
  metadata?: Record<string, string>;
  /** Milliseconds from now. */
  timeoutMs?: number;
}

/** A reply with the response metadata the server sent (x-request-id, x-switchyard-variant, …). */
export type WithMetadata<T> = T & { metadata: Record<string, string> };

export interface InferenceClient {
  serverLive(settings?: CallSettings): Promise<{ live: boolean }>;
  serverReady(settings?: CallSettings): Promise<{ ready: boolean }>;
  modelReady(model: ModelRef, settings?: CallSettings): Promise<{ ready: boolean }>;
  serverMetadata(settings?: CallSettings): Promise<ServerMetadataResponse>;
  modelMetadata(model: ModelRef, settings?: CallSettings): Promise<ModelMetadataResponse>;
  modelInfer(request: ModelInferRequest, settings?: CallSettings): Promise<WithMetadata<ModelInferResponse>>;
  /** Triton's model configuration extension. */
  modelConfig(model: ModelRef, settings?: CallSettings): Promise<{ config: ModelConfig }>;
  /** Triton's statistics extension; `name` empty: every model. */
  modelStatistics(request: { name?: string; version?: string }, settings?: CallSettings): Promise<ModelStatisticsResponse>;
  /** Triton's model repository extension (read-only). */
  repositoryIndex(request: { repository_name?: string; ready?: boolean }, settings?: CallSettings): Promise<RepositoryIndexResponse>;
  close(): void;
}

type UnaryMethod = (request: unknown, metadata: Metadata, options: CallOptions, callback: (error: ServiceError | null, value?: unknown) => void) => {
  on(event: 'metadata', listener: (metadata: Metadata) => void): unknown;
};

export interface InferenceClientOptions {
  /** Open a connection of its own instead of sharing one with other clients of the same address. */
  ownConnection?: boolean;
}

/** Connects (lazily) to `address` (`host:port`) without TLS. */
export function createInferenceClient(address: string, options: InferenceClientOptions = {}): InferenceClient {
  const { Client } = inferenceService();
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    ...(options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  }) as Client & Record<string, UnaryMethod>;

  function call<T>(method: string, request: unknown, settings: CallSettings = {}): Promise<WithMetadata<T>> {
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(settings.metadata ?? {})) metadata.set(key, value);
    const options: CallOptions = settings.timeoutMs === undefined ? {} : { deadline: Date.now() + settings.timeoutMs };
    return new Promise((resolve, reject) => {
      const received: Record<string, string> = {};
      const unary = client[method] as UnaryMethod;
      const pending = unary.call(client, request, metadata, options, (error, value) => {
        if (error) reject(error);
        else resolve({ ...(value as T), metadata: received });
      });
      pending.on('metadata', (m) => {
        for (const [key, value] of Object.entries(m.getMap())) if (typeof value === 'string') received[key] = value;
      });
    });
  }

  const strip = <T>(promise: Promise<WithMetadata<T>>): Promise<T> =>
    promise.then(({ metadata: _metadata, ...rest }) => rest as T);

  return {
    serverLive: (s) => strip(call('ServerLive', {}, s)),
    serverReady: (s) => strip(call('ServerReady', {}, s)),
    modelReady: (m, s) => strip(call('ModelReady', m, s)),
    serverMetadata: (s) => strip(call('ServerMetadata', {}, s)),
    modelMetadata: (m, s) => strip(call('ModelMetadata', m, s)),
    modelInfer: (r, s) => call('ModelInfer', r, s),
    modelConfig: (m, s) => strip(call('ModelConfig', m, s)),
    modelStatistics: (r, s) => strip(call('ModelStatistics', r, s)),
    repositoryIndex: (r, s) => strip(call('RepositoryIndex', r, s)),
    close: () => client.close(),
  };
}

/**
 * A ModelInfer request as gRPC sends it in an HTTP/2 DATA stream: the
 * 5-byte prefix (not compressed, message length big-endian) and the
 * protobuf message. For tools that speak raw HTTP/2, such as load
 * generators.
 */
export function modelInferFrame(request: ModelInferRequest): Uint8Array {
  const message = inferenceService().definition.ModelInfer?.requestSerialize(request) as Buffer;
  const frame = Buffer.alloc(5 + message.byteLength);
  frame.writeUInt32BE(message.byteLength, 1);
  message.copy(frame, 5);
  return frame;
}
