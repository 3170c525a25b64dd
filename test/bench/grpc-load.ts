/** Closed-loop gRPC load: `clients` clients, each on its own connection, one ModelInfer at a time. */
import { createInferenceClient, type ModelInferRequest } from '@switchyard/grpc/client';
import { summarize, type Measurement } from './measurement.ts';

export interface GrpcLoadOptions {
  address: string;
  request: ModelInferRequest;
  metadata?: Record<string, string>;
  clients: number;
  durationS: number;
  rowsPerRequest: number;
  /** Called after the warm-up, right before the measured run. */
  onMeasureStart?: () => void;
}

async function run(options: GrpcLoadOptions, durationS: number): Promise<{ latencies: number[]; errors: number; elapsedS: number }> {
  const clients = Array.from({ length: options.clients }, () => createInferenceClient(options.address, { ownConnection: true }));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + durationS * 1000;
  try {
    await Promise.all(clients.map(async (client) => {
      while (performance.now() < until) {
        const t0 = performance.now();
        try {
          await client.modelInfer(options.request, { metadata: options.metadata ?? {} });
          latencies.push(performance.now() - t0);
        } catch {
          errors++; // counted in the row; the load keeps going
        }
      }
    }));
  } finally {
    for (const client of clients) client.close();
  }
  return { latencies, errors, elapsedS: (performance.now() - started) / 1000 };
}

export async function measureGrpc(options: GrpcLoadOptions): Promise<Measurement> {
  await run(options, 1); // warm-up: connections, JIT
  options.onMeasureStart?.();
  const { latencies, errors, elapsedS } = await run(options, options.durationS);
  return summarize(latencies.length * options.rowsPerRequest, elapsedS, latencies, errors);
}
