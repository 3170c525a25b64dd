/**
 * Transports on a payload-heavy model: image-stats (FP32 [3, 64, 64] per
 * row) through one gateway process at 32 concurrent clients, as HTTP JSON,
 * HTTP binary tensors (Triton's extension) and gRPC (raw_input_contents,
 * on the same process's gRPC port), with the gateway's CPU per request.
 * Each scenario gets the same gateway, key, request and CPU accounting.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startGatewayProcess, startWorkerProcess, type ServiceProcess } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { binaryInferBody, fp32Bytes } from '../src/binary-tensors.ts';
import { measureGrpc } from './grpc-load.ts';
import { measureHttp } from './http-load.ts';
import type { Measurement } from './measurement.ts';
import { cpuSeconds } from './process-cpu.ts';

export interface TransportRow extends Measurement {
  scenario: string;
  concurrency: number;
  gatewayCpuSecondsPer1000?: number;
}

const KEY = 'sy_bench_transport_key';
const MODEL = 'image-stats';
const CONNECTIONS = 32;
const ROWS_PER_REQUEST = 1;

/** What a transport scenario is given: the running gateway and the request to send. */
export interface TransportContext {
  gateway: ServiceProcess;
  /** `host:port` of the same gateway process's gRPC endpoint. */
  grpcAddress: string;
  /** Bearer key with `infer:*` on the gateway. */
  key: string;
  model: string;
  connections: number;
  durationS: number;
  rowsPerRequest: number;
  /** The input tensor of every request: FP32 [rowsPerRequest, 3, 64, 64], row-major. */
  pixels: Float32Array;
  /** Call after the scenario's warm-up, right before the measured run (starts the CPU reading). */
  onMeasureStart: () => void;
}

export interface TransportScenario {
  name: string;
  measure(context: TransportContext): Promise<Measurement>;
}

/** HTTP JSON and HTTP binary tensors; the built-in scenarios. */
export const HTTP_SCENARIOS: readonly TransportScenario[] = [
  {
    name: 'HTTP JSON',
    measure: (ctx) => measureHttp({
      url: `${ctx.gateway.url}/v2/models/${ctx.model}/infer`,
      body: JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [ctx.rowsPerRequest, 3, 64, 64], data: Array.from(ctx.pixels) }] }),
      connections: ctx.connections, durationS: ctx.durationS, rowsPerRequest: ctx.rowsPerRequest,
      headers: { authorization: `Bearer ${ctx.key}` }, onMeasureStart: ctx.onMeasureStart,
    }),
  },
  {
    name: 'HTTP binary tensors',
    measure: (ctx) => {
      const { body, headers } = binaryInferBody({
        inputs: [{ name: 'image', datatype: 'FP32', shape: [ctx.rowsPerRequest, 3, 64, 64], parameters: { binary_data_size: ctx.pixels.byteLength } }],
        parameters: { binary_data_output: true },
      }, [fp32Bytes(ctx.pixels)]);
      return measureHttp({
        url: `${ctx.gateway.url}/v2/models/${ctx.model}/infer`, body,
        connections: ctx.connections, durationS: ctx.durationS, rowsPerRequest: ctx.rowsPerRequest,
        headers: { authorization: `Bearer ${ctx.key}`, ...headers }, onMeasureStart: ctx.onMeasureStart,
      });
    },
  },
];

/** gRPC ModelInfer with the tensor in raw_input_contents, outputs back in raw_output_contents. */
export const GRPC_SCENARIO: TransportScenario = {
  name: 'gRPC raw contents',
  measure: (ctx) => measureGrpc({
    address: ctx.grpcAddress,
    request: {
      model_name: ctx.model,
      inputs: [{ name: 'image', datatype: 'FP32', shape: [ctx.rowsPerRequest, 3, 64, 64] }],
      raw_input_contents: [fp32Bytes(ctx.pixels)],
    },
    metadata: { authorization: `Bearer ${ctx.key}` },
    clients: ctx.connections, durationS: ctx.durationS, rowsPerRequest: ctx.rowsPerRequest, onMeasureStart: ctx.onMeasureStart,
  }),
};

/** Every transport, measured in one run against one gateway process. */
export const TRANSPORT_SCENARIOS: readonly TransportScenario[] = [...HTTP_SCENARIOS, GRPC_SCENARIO];

export async function benchTransports(
  repository: string, durationS: number, record: (row: TransportRow) => void, scenarios: readonly TransportScenario[] = TRANSPORT_SCENARIOS,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-transport-bench-'));
  const worker = await startWorkerProcess({ model: MODEL, repository, env: { LOG_LEVEL: 'warn' } });
  const configPath = join(dir, 'switchyard.yaml');
  await writeFile(configPath, stringify({
    version: 1,
    auth: { api_keys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), tenant: 'bench', scopes: ['infer:*'] }] },
    models: { [MODEL]: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
  }));
  const grpcPort = await freePort();
  const gateway = await startGatewayProcess({ configPath, env: { LOG_LEVEL: 'warn', ADMIN_PORT: String(await freePort()), GRPC_PORT: String(grpcPort) } });
  for (let i = 0; i < 100 && (await fetch(`${gateway.url}/v2/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  const pixels = Float32Array.from({ length: ROWS_PER_REQUEST * 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.01));
  const pid = gateway.child.pid ?? 0;
  try {
    for (const scenario of scenarios) {
      let cpuBefore = 0;
      const m = await scenario.measure({
        gateway, grpcAddress: `127.0.0.1:${grpcPort}`, key: KEY, model: MODEL, connections: CONNECTIONS, durationS, rowsPerRequest: ROWS_PER_REQUEST, pixels,
        onMeasureStart: () => (cpuBefore = cpuSeconds(pid)),
      });
      const cpu = cpuSeconds(pid) - cpuBefore;
      record({ scenario: scenario.name, concurrency: CONNECTIONS, ...m, gatewayCpuSecondsPer1000: (cpu / m.requests) * 1000 });
    }
  } finally {
    await gateway.stop();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
