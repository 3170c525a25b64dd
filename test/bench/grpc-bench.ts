/**
 * Transports through the gateway at 32 concurrent clients: HTTP JSON and
 * gRPC (raw tensors) against one gateway process serving both, in front of
 * one seed-classifier worker; rows/s and the gateway's CPU per 1000
 * requests. seed-classifier at 64 rows per request stands in for a
 * payload-heavy model, which this branch does not have.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServiceProcess, type ServiceProcess } from '@switchyard/fleet/service-process';
import { startWorkerProcess } from '@switchyard/fleet/worker-process';
import { valuesToRaw } from '@switchyard/grpc/client';
import { stringify } from 'yaml';
import { measureGrpc } from './grpc-load.ts';
import { measureHttp } from './http-load.ts';
import type { Measurement } from './measurement.ts';
import { cpuSeconds } from './process-cpu.ts';

export interface GrpcRow extends Measurement {
  scenario: string;
  concurrency: number;
  gatewayCpuSecondsPer1000: number;
}

const KEY = 'sy_bench_grpc_key';
const ROWS = 64;
const CLIENTS = 32;
const GATEWAY_ENTRY = fileURLToPath(new URL('./grpc-gateway-process.ts', import.meta.url));

async function withCpu(gateway: ServiceProcess, measure: (onMeasureStart: () => void) => Promise<Measurement>): Promise<Measurement & { gatewayCpuSecondsPer1000: number }> {
  const pid = gateway.child.pid ?? 0;
  let before = 0;
  const m = await measure(() => (before = cpuSeconds(pid)));
  return { ...m, gatewayCpuSecondsPer1000: ((cpuSeconds(pid) - before) / m.requests) * 1000 };
}

export async function benchGrpc(repository: string, durationS: number, record: (row: GrpcRow) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-grpc-bench-'));
  const worker = await startWorkerProcess({ model: 'seed-classifier', repository, versions: [1], env: { LOG_LEVEL: 'warn' } });
  const configPath = join(dir, 'switchyard.yaml');
  await writeFile(configPath, stringify({
    version: 1,
    auth: { api_keys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), tenant: 'bench', scopes: ['infer:*'] }] },
    rate_limits: { policies: [{ name: 'tenant', per: 'tenant', rate: 1e6, burst: 1e6 }] },
    models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
  }));
  const grpcPort = await freePort();
  const gateway = await startServiceProcess({
    name: 'gateway (HTTP + gRPC)', entry: GATEWAY_ENTRY, readyPath: '/v2/health/ready',
    env: { SWITCHYARD_CONFIG: configPath, GRPC_PORT: String(grpcPort), LOG_LEVEL: 'warn' },
  });
  const values = Array.from({ length: ROWS * 2 }, (_, i) => Math.round(Math.sin(i) * 1e4) / 1e4);
  const jsonBody = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [ROWS, 2], data: values }] });
  const auth = { authorization: `Bearer ${KEY}` };
  try {
    record({
      scenario: `gateway HTTP JSON (${ROWS} rows/request)`, concurrency: CLIENTS,
      ...(await withCpu(gateway, (onMeasureStart) => measureHttp({
        url: `${gateway.url}/v2/models/seed-classifier/infer`, body: jsonBody, connections: CLIENTS, durationS, rowsPerRequest: ROWS, headers: auth, onMeasureStart,
      }))),
    });
    record({
      scenario: `gateway gRPC raw tensors (${ROWS} rows/request)`, concurrency: CLIENTS,
      ...(await withCpu(gateway, (onMeasureStart) => measureGrpc({
        address: `127.0.0.1:${grpcPort}`, metadata: auth, clients: CLIENTS, durationS, rowsPerRequest: ROWS, onMeasureStart,
        request: { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FP32', shape: [ROWS, 2] }], raw_input_contents: [valuesToRaw('FP32', values)] },
      }))),
    });
  } finally {
    await gateway.stop();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
