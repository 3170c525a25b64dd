/**
 * The local fleet: one supervised worker process per local variant replica
 * and one gateway, all from `switchyard.yaml`. `reconcile` brings the
 * running workers in line with an edited file (starts added variants, stops
 * removed ones, replaces changed ones); the gateway reloads the same file
 * on its own.
 */
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { desiredWorkers, workerChanged, type WorkerSpec } from './desired-services.ts';
import type { ServiceProcess, ServiceRuntime } from './service-process.ts';
import { Supervisor } from './supervisor.ts';
import { startGatewayProcess, startWorkerProcess } from './worker-process.ts';

export interface LocalFleetOptions {
  configPath: string;
  repository: string;
  /** Extra environment for every service (log level, Redis). */
  env: Record<string, string>;
  /** Environment for the gateway only (the dev key's digest). */
  gatewayEnv: Record<string, string>;
  /** What the services run on. Default `node`. */
  runtime?: ServiceRuntime;
  report: (message: string) => void;
  /** Receives every line a service prints, prefixed by its name. */
  onLine: (name: string, line: string) => void;
}

interface RunningWorker {
  spec: WorkerSpec;
  supervisor: Supervisor;
}

export class LocalFleet {
  readonly #options: LocalFleetOptions;
  readonly #workers = new Map<string, RunningWorker>();
  #gateway: Supervisor | undefined;
  #stopping = false;
  #reconciling: Promise<void> = Promise.resolve();

  constructor(options: LocalFleetOptions) {
    this.#options = options;
  }

  /** Workers' keys currently supervised, e.g. `seed-classifier/v1#0`. */
  get workers(): string[] {
    return [...this.#workers.keys()];
  }

  /** Starts every worker (ready), then the gateway (live). Throws when one cannot start. */
  async start(config: FleetConfig): Promise<ServiceProcess> {
    await Promise.all(desiredWorkers(config).map((spec) => this.#startWorker(spec)));
    const { configPath, env, gatewayEnv, report, onLine, runtime } = this.#options;
    this.#gateway = new Supervisor({
      name: 'gateway',
      report,
      start: () =>
        startGatewayProcess({ configPath, port: config.gateway.port, host: config.gateway.host, env: { ...env, ...gatewayEnv }, onLine: (l) => onLine('gateway', l), ...(runtime ? { runtime } : {}) }),
    });
    return this.#gateway.start();
  }

  /** Brings the workers in line with `config`; serialised with other reconciles. */
  reconcile(config: FleetConfig): Promise<void> {
    this.#reconciling = this.#reconciling.then(async () => {
      if (this.#stopping) return;
      const desired = new Map(desiredWorkers(config).map((spec) => [spec.key, spec]));
      const obsolete = [...this.#workers.values()].filter(({ spec }) => {
        const next = desired.get(spec.key);
        return !next || workerChanged(spec, next);
      });
      await Promise.all(
        obsolete.map(async ({ spec, supervisor }) => {
          this.#workers.delete(spec.key);
          this.#options.report(`stopping worker ${spec.key} (${desired.has(spec.key) ? 'changed' : 'removed'} in the fleet config)`);
          await supervisor.stop();
        }),
      );
      const added = [...desired.values()].filter((spec) => !this.#workers.has(spec.key));
      await Promise.all(
        added.map(async (spec) => {
          this.#options.report(`starting worker ${spec.key} (v${spec.version} on port ${spec.port})`);
          try {
            await this.#startWorker(spec);
            this.#options.report(`worker ${spec.key} is ready`);
          } catch (error) {
            this.#options.report(`worker ${spec.key} could not start: ${(error as Error).message.split('\n')[0]}`);
          }
        }),
      );
    });
    return this.#reconciling;
  }

  async #startWorker(spec: WorkerSpec): Promise<void> {
    const { repository, env, report, onLine, runtime } = this.#options;
    const supervisor = new Supervisor({
      name: `worker ${spec.key}`,
      report,
      start: () =>
        startWorkerProcess({
          model: spec.model, repository, versions: [spec.version], name: spec.key, port: spec.port,
          env: { ...env, SWITCHYARD_VARIANT: spec.variant, SWITCHYARD_POOL: spec.pool, GRPC_PORT: String(spec.grpcPort) }, onLine: (l) => onLine(spec.key, l),
          ...(runtime ? { runtime } : {}),
        }),
    });
    this.#workers.set(spec.key, { spec, supervisor });
    try {
      await supervisor.start();
    } catch (error) {
      this.#workers.delete(spec.key);
      throw error;
    }
  }

  /** Gateway first (it drains against live workers), then every worker. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const supervisors = [this.#gateway, ...[...this.#workers.values()].map((w) => w.supervisor)];
    for (const s of supervisors) s?.markStopping();
    await this.#gateway?.stop();
    await Promise.all([...this.#workers.values()].map((w) => w.supervisor.stop()));
  }
}
