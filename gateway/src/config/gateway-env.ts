/** The gateway's settings from the environment, read once at start-up. */
import { MAX_LOG_BUFFER_BYTES } from '@switchyard/observability/logger';
import { resolve } from 'node:path';
import type { EdgeTelemetry } from '@switchyard/fleet-config/edge-host';
import { z } from 'zod';

const GatewayEnvSchema = z.object({
  SWITCHYARD_CONFIG: z.string().min(1).default('switchyard.yaml'),
  REDIS_URL: z.string().min(1).optional(),
  /** Namespaces every Redis key, so fleets (and test runs) can share a Redis. */
  SWITCHYARD_REDIS_PREFIX: z.string().default('switchyard:'),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ADMIN_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Overrides `gateway.grpc_port` of the fleet file. */
  GRPC_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Log lines gathered before one write to stdout (flushed at least every 100 ms and at exit); 0 writes each line at once. */
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(MAX_LOG_BUFFER_BYTES).default(4096),
  SWITCHYARD_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  /** A YAML file of further API keys (`api_keys: [...]`), e.g. a mounted Kubernetes Secret. */
  SWITCHYARD_API_KEYS_FILE: z.string().min(1).optional(),
  /** Local fleets only: the SHA-256 of a development key with every scope. */
  SWITCHYARD_DEV_KEY_SHA256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256').optional(),
  /** Passed on to the edge workers' Deno processes, whose built-in tracing reads them. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().min(1).optional(),
  OTEL_BSP_SCHEDULE_DELAY: z.string().min(1).optional(),
});

export interface GatewayEnv {
  configPath: string;
  redisUrl?: string;
  redisPrefix: string;
  port?: number;
  adminPort?: number;
  grpcPort?: number;
  host?: string;
  logLevel: string;
  logBufferBytes: number;
  drainTimeoutMs: number;
  devKeySha256?: string;
  apiKeysFile?: string;
  /** Where traces go (OTLP over HTTP), for the edge workers' processes. */
  otlp?: EdgeTelemetry;
}

export function readGatewayEnv(env: NodeJS.ProcessEnv): GatewayEnv {
  const result = GatewayEnvSchema.safeParse(env);
  if (!result.success) {
    throw new Error(`invalid gateway environment:\n${result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const e = result.data;
  return {
    configPath: resolve(e.SWITCHYARD_CONFIG),
    redisPrefix: e.SWITCHYARD_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    logBufferBytes: e.LOG_BUFFER_BYTES,
    drainTimeoutMs: e.SWITCHYARD_DRAIN_TIMEOUT_MS,
    ...(e.REDIS_URL ? { redisUrl: e.REDIS_URL } : {}),
    ...(e.PORT !== undefined ? { port: e.PORT } : {}),
    ...(e.ADMIN_PORT !== undefined ? { adminPort: e.ADMIN_PORT } : {}),
    ...(e.GRPC_PORT !== undefined ? { grpcPort: e.GRPC_PORT } : {}),
    ...(e.HOST ? { host: e.HOST } : {}),
    ...(e.SWITCHYARD_DEV_KEY_SHA256 ? { devKeySha256: e.SWITCHYARD_DEV_KEY_SHA256 } : {}),
    ...(e.SWITCHYARD_API_KEYS_FILE ? { apiKeysFile: resolve(e.SWITCHYARD_API_KEYS_FILE) } : {}),
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          otlp: {
            endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
            ...(e.OTEL_EXPORTER_OTLP_PROTOCOL ? { protocol: e.OTEL_EXPORTER_OTLP_PROTOCOL } : {}),
            ...(e.OTEL_BSP_SCHEDULE_DELAY ? { scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY } : {}),
          },
        }
      : {}),
  };
}
