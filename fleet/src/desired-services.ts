/** What the local fleet should run for a fleet config: one worker per local variant replica. */
import { variantGrpcPorts, variantUpstreams, type FleetConfig } from '@switchyard/fleet-config/schema';

export interface WorkerSpec {
  /** Unique and stable across reloads, e.g. `seed-classifier/v1#0`. */
  key: string;
  model: string;
  variant: string;
  version: number;
  pool: string;
  port: number;
  /** Where the replica serves gRPC. */
  grpcPort: number;
}

export function desiredWorkers(config: FleetConfig): WorkerSpec[] {
  const specs: WorkerSpec[] = [];
  for (const [model, spec] of Object.entries(config.models)) {
    for (const variant of spec.variants) {
      if (variant.port === undefined) continue; // remote upstreams are not ours to run
      const grpcPorts = variantGrpcPorts(variant);
      variantUpstreams(variant).forEach((url, replica) => {
        specs.push({
          key: `${model}/${variant.name}#${replica}`, model, variant: variant.name, version: variant.version, pool: variant.pool,
          port: Number(new URL(url).port), grpcPort: grpcPorts[replica] ?? 0,
        });
      });
    }
  }
  return specs;
}

/** Whether a running worker must be replaced to match `next`. */
export function workerChanged(running: WorkerSpec, next: WorkerSpec): boolean {
  return running.version !== next.version || running.port !== next.port || running.grpcPort !== next.grpcPort || running.pool !== next.pool;
}
