/** The worker's settings, read once from the environment at start-up. */
import { MAX_LOG_BUFFER_BYTES } from '@switchyard/observability/logger';
import { resolve } from 'node:path';
import { z } from 'zod';

const WorkerEnvSchema = z.object({
  SWITCHYARD_MODEL: z.string().min(1, 'SWITCHYARD_MODEL must name the model to serve'),
  SWITCHYARD_MODEL_REPOSITORY: z.string().min(1).default('models'),
  SWITCHYARD_MODEL_VERSIONS: z
    .string()
    .regex(/^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$/, 'must be a comma-separated list of version numbers, e.g. "1,2"')
    .optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Port of the gRPC endpoint (inference.GRPCInferenceService), on HOST; unset: no gRPC endpoint. */
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SWITCHYARD_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(16 * 1024 * 1024),
  SWITCHYARD_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  /** Where this worker sits in the fleet, for telemetry resource attributes. */
  SWITCHYARD_VARIANT: z.string().min(1).optional(),
  SWITCHYARD_POOL: z.enum(['cpu', 'gpu']).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Log lines gathered before one write to stdout (flushed at least every 100 ms and at exit); 0 writes each line at once. */
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(MAX_LOG_BUFFER_BYTES).default(4096),
});

export interface WorkerEnv {
  model: string;
  repository: string;
  /** Versions to load; every version in the repository when undefined. */
  versions?: number[];
  port: number;
  host: string;
  /** Where the gRPC transport listens (same host); undefined: it does not. */
  grpcPort?: number;
  maxBodyBytes: number;
  drainTimeoutMs: number;
  logLevel: string;
  logBufferBytes: number;
  variant?: string;
  pool?: string;
}

/** @throws Error listing every invalid variable. */
export function readWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const result = WorkerEnvSchema.safeParse(env);
  if (!result.success) {
    throw new Error(`invalid worker environment:\n${result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const e = result.data;
  return {
    model: e.SWITCHYARD_MODEL,
    repository: resolve(e.SWITCHYARD_MODEL_REPOSITORY),
    ...(e.SWITCHYARD_MODEL_VERSIONS ? { versions: e.SWITCHYARD_MODEL_VERSIONS.split(',').map((v) => Number(v.trim())) } : {}),
    port: e.PORT,
    host: e.HOST,
    ...(e.GRPC_PORT === undefined ? {} : { grpcPort: e.GRPC_PORT }),
    maxBodyBytes: e.SWITCHYARD_MAX_BODY_BYTES,
    drainTimeoutMs: e.SWITCHYARD_DRAIN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    logBufferBytes: e.LOG_BUFFER_BYTES,
    ...(e.SWITCHYARD_VARIANT ? { variant: e.SWITCHYARD_VARIANT } : {}),
    ...(e.SWITCHYARD_POOL ? { pool: e.SWITCHYARD_POOL } : {}),
  };
}
