/** Starts model workers and gateways as child processes (local fleet, tests, benchmarks). */
import { createRequire } from 'node:module';
import { startServiceProcess, type ServiceProcess, type ServiceProcessOptions } from './service-process.ts';

export { freePort, ServiceStartError, type ServiceProcess, type ServiceRuntime } from './service-process.ts';

const WORKER_ENTRY = createRequire(import.meta.url).resolve('@switchyard/model-worker/server');
const GATEWAY_ENTRY = createRequire(import.meta.url).resolve('@switchyard/gateway/server');

type Common = Pick<ServiceProcessOptions, 'port' | 'host' | 'env' | 'onLine' | 'readyTimeoutMs' | 'runtime' | 'nodeFlags'>;

export interface WorkerProcessOptions extends Common {
  model: string;
  repository: string;
  /** Load only these versions (all by default). */
  versions?: readonly number[];
  /** Name in errors and logs. Default: the model. */
  name?: string;
}

export type WorkerProcess = ServiceProcess & { model: string };

/** Starts a worker and resolves once `/v2/health/ready` answers 200. */
export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { model, repository, versions, name = model, env = {}, ...rest } = options;
  const service = await startServiceProcess({
    ...rest,
    name: `worker ${name}`,
    entry: WORKER_ENTRY,
    env: {
      SWITCHYARD_MODEL: model,
      SWITCHYARD_MODEL_REPOSITORY: repository,
      ...(versions ? { SWITCHYARD_MODEL_VERSIONS: versions.join(',') } : {}),
      ...env,
    },
  });
  return Object.assign(service, { model });
}

export interface GatewayProcessOptions extends Common {
  configPath: string;
}

/** Starts a gateway and resolves once it is live (its readiness depends on its upstreams). */
export function startGatewayProcess(options: GatewayProcessOptions): Promise<ServiceProcess> {
  const { configPath, env = {}, ...rest } = options;
  return startServiceProcess({ ...rest, name: 'gateway', entry: GATEWAY_ENTRY, readyPath: '/v2/health/live', env: { SWITCHYARD_CONFIG: configPath, ...env } });
}
