/**
 * A real fleet for end-to-end tests: worker processes for the sample
 * classifier (and optionally the every-datatype echo model), a fleet config
 * pointing at them, and gateways started as processes from that config, on
 * Node or on Deno.
 */
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startGatewayProcess, startWorkerProcess, type ServiceProcess, type ServiceRuntime, type WorkerProcess } from '@switchyard/fleet/worker-process';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { writeTypedEcho } from '@switchyard/model-worker/testing/fixture-models';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';

export const FLEET_KEY = 'sy_e2e_key_with_all_scopes';

export type Gateway = ServiceProcess & { adminUrl: string };

export interface FleetOverrides {
  policies?: unknown[];
  onRedisFailure?: 'local' | 'closed';
  /** Replace the candidate's upstreams (e.g. with a faulty stand-in). */
  v2Upstreams?: string[];
  rolloutTickMs?: number;
  /** Copy this share of seed-classifier traffic to v2. */
  shadowPercent?: number;
  /** Extra v1 replicas that do not exist (to exercise retries and health). */
  deadV1Upstreams?: string[];
  /** Edge workers (`edge_workers`), and the one in front of v1. */
  edge?: { workers: Record<string, unknown>; v1?: string };
  /** More API keys (plain keys; their digests go into the config). */
  extraKeys?: Array<{ id: string; key: string }>;
}

/** A second configured model (a copy of the classifier under another name), served by one variant. */
export const TWIN_MODEL = 'seed-twin';

export interface Fleet {
  dir: string;
  repository: string;
  configPath: string;
  /** `twin`: the workers of `TWIN_MODEL`, when the fleet was started with it; `echo`: `typed-echo`'s. */
  workers: { v1: WorkerProcess[]; v2: WorkerProcess[]; twin: WorkerProcess[]; echo: WorkerProcess[] };
  startGateway(env?: Record<string, string>): Promise<Gateway>;
  writeConfig(overrides?: FleetOverrides): Promise<void>;
  close(): Promise<void>;
}

/** Removes a run's keys (flags, audit, limits) from the shared Redis; a no-op if it is unreachable. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } catch {
    // Nothing to clean where there is no Redis.
  } finally {
    redis.disconnect();
  }
}

export interface FleetOptions {
  v1Replicas?: number;
  policies?: unknown[];
  workerEnv?: Record<string, string>;
  /** What the workers and gateways run on. Default `node`. */
  runtime?: ServiceRuntime;
  /** Also serve `typed-echo` (every datatype, one replica, variant `e1`). */
  typedEcho?: boolean;
  /** Also serve `TWIN_MODEL` (a copy of the classifier, one variant). */
  twinModel?: boolean;
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-fleet-'));
  const repository = join(dir, 'models');
  await writeSampleRepository(repository, { models: ['seed-classifier'] });
  if (options.twinModel) await cp(join(repository, 'seed-classifier'), join(repository, TWIN_MODEL), { recursive: true });
  if (options.typedEcho) await writeTypedEcho(repository);
  const env = { LOG_LEVEL: 'warn', ...options.workerEnv };
  const runtime = options.runtime ?? 'node';
  const [v1, v2, twin, echo] = await Promise.all([
    Promise.all(Array.from({ length: options.v1Replicas ?? 2 }, (_, i) => startWorkerProcess({ model: 'seed-classifier', repository, versions: [1], name: `v1#${i}`, env, runtime }))),
    Promise.all([startWorkerProcess({ model: 'seed-classifier', repository, versions: [2], name: 'v2#0', env, runtime })]),
    Promise.all(options.twinModel ? [startWorkerProcess({ model: TWIN_MODEL, repository, versions: [1], name: `${TWIN_MODEL}#0`, env, runtime })] : []),
    Promise.all(options.typedEcho ? [startWorkerProcess({ model: 'typed-echo', repository, name: 'e1#0', env, runtime })] : []),
  ]);
  const configPath = join(dir, 'switchyard.yaml');
  const gateways: Gateway[] = [];
  const redisPrefix = `switchyard-e2e:${randomUUID()}:`;

  const writeConfig: Fleet['writeConfig'] = async (overrides = {}) => {
    const config = {
      version: 1,
      model_repository: repository,
      gateway: { health_interval_ms: 200, redis_command_timeout_ms: 5000, circuit_breaker: { failures: 2, cooldown_ms: 1000 }, rollout_tick_ms: overrides.rolloutTickMs ?? 200 },
      auth: {
        api_keys: [
          { id: 'e2e', sha256: createHash('sha256').update(FLEET_KEY).digest('hex'), tenant: 'acme', scopes: ['infer:*', 'variant:override', 'admin'] },
          ...(overrides.extraKeys ?? []).map(({ id, key }) => ({ id, sha256: createHash('sha256').update(key).digest('hex'), tenant: 'acme', scopes: ['infer:*'] })),
        ],
      },
      ...(overrides.edge ? { edge_workers: overrides.edge.workers } : {}),
      rate_limits: { on_redis_failure: overrides.onRedisFailure ?? 'local', policies: overrides.policies ?? options.policies ?? [] },
      models: {
        'seed-classifier': {
          stable: 'v1',
          variants: [
            { name: 'v1', version: 1, weight: 70, replicas: v1.length + (overrides.deadV1Upstreams?.length ?? 0), upstreams: [...v1.map((w) => w.url), ...(overrides.deadV1Upstreams ?? [])], ...(overrides.edge?.v1 ? { edge_worker: overrides.edge.v1 } : {}) },
            { name: 'v2', version: 2, weight: 30, replicas: 1, upstreams: overrides.v2Upstreams ?? v2.map((w) => w.url) },
          ],
          ...(overrides.shadowPercent ? { shadow: { variant: 'v2', percent: overrides.shadowPercent } } : {}),
        },
        ...(twin.length > 0 ? { [TWIN_MODEL]: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, replicas: twin.length, upstreams: twin.map((w) => w.url) }] } } : {}),
        ...(echo.length > 0 ? { 'typed-echo': { stable: 'e1', variants: [{ name: 'e1', version: 1, weight: 100, replicas: echo.length, upstreams: echo.map((w) => w.url) }] } } : {}),
      },
    };
    await writeFile(configPath, stringify(config));
  };
  await writeConfig();

  return {
    dir,
    repository,
    configPath,
    workers: { v1, v2, twin, echo },
    async startGateway(extraEnv = {}) {
      const adminPort = await freePort();
      const process = await startGatewayProcess({ configPath, runtime, env: { LOG_LEVEL: 'warn', SWITCHYARD_REDIS_PREFIX: redisPrefix, ADMIN_PORT: String(adminPort), ...extraEnv } });
      const gateway = Object.assign(process, { adminUrl: `http://127.0.0.1:${adminPort}` });
      gateways.push(gateway);
      return gateway;
    },
    writeConfig,
    async close() {
      await Promise.all(gateways.map((g) => g.stop()));
      await Promise.all([...v1, ...v2, ...twin, ...echo].map((w) => w.stop()));
      await rm(dir, { recursive: true, force: true });
      await deleteKeys(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', redisPrefix);
    },
  };
}

/** Calls the admin API with the fleet key. */
export async function admin(gateway: Gateway, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gateway.adminUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

export function inferRequest(url: string, headers: Record<string, string> = {}, path = '/v2/models/seed-classifier/infer'): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.3, -0.1] }] }),
  });
}
