/**
 * Transports on a payload-heavy model: image-stats (FP32 [3, 64, 64] per
 * row) through one gateway process at 32 concurrent clients, as HTTP JSON,
 * HTTP binary tensors (Triton's extension) and gRPC (raw_input_contents,
 * on the same process's gRPC port), with the gateway's CPU per request.
 * Each scenario gets the same gateway, key, request and CPU accounting.
 * With h2load installed, the three again from that one C load generator,
 * and each transport's floor: a Node server that answers at once.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { freePort, startGatewayProcess, startWorkerProcess, type ServiceProcess } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { binaryInferBody, fp32Bytes } from '../src/binary-tensors.ts';
import { modelInferFrame, type ModelInferRequest } from '@switchyard/grpc/client';
import { measureGrpc } from './grpc-load.ts';
import { hasH2load, runH2load, type H2loadOptions } from './h2load-load.ts';
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
  /** Requests the model worker has answered successfully so far (its statistics). */
  workerSuccesses(): Promise<number>;
}

export interface TransportScenario {
  name: string;
  measure(context: TransportContext): Promise<Measurement>;
}

/** The three forms of one request: FP32 [rows, 3, 64, 64] as JSON `data`, as a binary tensor body (binary outputs too), as gRPC raw contents. */
const jsonRequest = (rows: number, pixels: Float32Array): string =>
  JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [rows, 3, 64, 64], data: Array.from(pixels) }] });
const binaryRequest = (rows: number, pixels: Float32Array) => binaryInferBody({
  inputs: [{ name: 'image', datatype: 'FP32', shape: [rows, 3, 64, 64], parameters: { binary_data_size: pixels.byteLength } }],
  parameters: { binary_data_output: true },
}, [fp32Bytes(pixels)]);
const grpcRequest = (model: string, rows: number, pixels: Float32Array): ModelInferRequest => ({
  model_name: model, inputs: [{ name: 'image', datatype: 'FP32', shape: [rows, 3, 64, 64] }], raw_input_contents: [fp32Bytes(pixels)],
});
const GRPC_HEADERS = { 'content-type': 'application/grpc', te: 'trailers' };

/** HTTP JSON and HTTP binary tensors; the built-in scenarios. */
export const HTTP_SCENARIOS: readonly TransportScenario[] = [
  {
    name: 'HTTP JSON',
    measure: (ctx) => measureHttp({
      url: `${ctx.gateway.url}/v2/models/${ctx.model}/infer`,
      body: jsonRequest(ctx.rowsPerRequest, ctx.pixels),
      connections: ctx.connections, durationS: ctx.durationS, rowsPerRequest: ctx.rowsPerRequest,
      headers: { authorization: `Bearer ${ctx.key}` }, onMeasureStart: ctx.onMeasureStart,
    }),
  },
  {
    name: 'HTTP binary tensors',
    measure: (ctx) => {
      const { body, headers } = binaryRequest(ctx.rowsPerRequest, ctx.pixels);
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
    request: grpcRequest(ctx.model, ctx.rowsPerRequest, ctx.pixels),
    metadata: { authorization: `Bearer ${ctx.key}` },
    clients: ctx.connections, durationS: ctx.durationS, rowsPerRequest: ctx.rowsPerRequest, onMeasureStart: ctx.onMeasureStart,
  }),
};

/**
 * One transport under h2load. Successes are the fewer of h2load's 2xx
 * answers and the requests the worker answered meanwhile: h2load cannot see
 * a gRPC status, which travels in the trailers of an HTTP 200.
 */
async function measureH2load(ctx: TransportContext, options: Omit<H2loadOptions, 'connections' | 'durationS' | 'onMeasureStart'>): Promise<Measurement> {
  let before = 0;
  const r = await runH2load({
    ...options, connections: ctx.connections, durationS: ctx.durationS,
    onMeasureStart: async () => {
      before = await ctx.workerSuccesses();
      ctx.onMeasureStart();
    },
  });
  const served = (await ctx.workerSuccesses()) - before;
  const ok = Math.min(r.ok, served);
  return { rowsPerSecond: (ok * ctx.rowsPerRequest) / r.elapsedS, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: ok + r.errors + (r.ok - ok), errors: r.errors + (r.ok - ok) };
}

/** The same three requests from one C load generator (h2load): HTTP/1.1 for the REST forms, h2c for gRPC. */
export const H2LOAD_SCENARIOS: readonly TransportScenario[] = [
  {
    name: 'h2load: HTTP JSON',
    measure: (ctx) => measureH2load(ctx, {
      url: `${ctx.gateway.url}/v2/models/${ctx.model}/infer`, protocol: 'http/1.1',
      body: new TextEncoder().encode(jsonRequest(ctx.rowsPerRequest, ctx.pixels)),
      headers: { authorization: `Bearer ${ctx.key}`, 'content-type': 'application/json' },
    }),
  },
  {
    name: 'h2load: HTTP binary tensors',
    measure: (ctx) => {
      const { body, headers } = binaryRequest(ctx.rowsPerRequest, ctx.pixels);
      return measureH2load(ctx, { url: `${ctx.gateway.url}/v2/models/${ctx.model}/infer`, protocol: 'http/1.1', body, headers: { authorization: `Bearer ${ctx.key}`, ...headers } });
    },
  },
  {
    name: 'h2load: gRPC raw contents',
    measure: (ctx) => measureH2load(ctx, {
      url: `http://${ctx.grpcAddress}/inference.GRPCInferenceService/ModelInfer`, protocol: 'h2c',
      body: modelInferFrame(grpcRequest(ctx.model, ctx.rowsPerRequest, ctx.pixels)),
      headers: { authorization: `Bearer ${ctx.key}`, ...GRPC_HEADERS },
    }),
  },
];

/** Every transport, measured in one run against one gateway process: Node clients, then h2load when installed. */
export const TRANSPORT_SCENARIOS: readonly TransportScenario[] = [...HTTP_SCENARIOS, GRPC_SCENARIO];

export async function benchTransports(
  repository: string, durationS: number, record: (row: TransportRow) => void, note: (line: string) => void = console.log, scenarios: readonly TransportScenario[] = TRANSPORT_SCENARIOS,
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
  const workerSuccesses = async () => {
    const stats = (await (await fetch(`${worker.url}/v2/models/${MODEL}/stats`)).json()) as { model_stats: Array<{ inference_stats: { success: { count: number } } }> };
    return stats.model_stats.reduce((sum, s) => sum + s.inference_stats.success.count, 0);
  };
  const all = scenarios === TRANSPORT_SCENARIOS && (await hasH2load()) ? [...scenarios, ...H2LOAD_SCENARIOS] : scenarios;
  if (scenarios === TRANSPORT_SCENARIOS && all === scenarios) note('transports: h2load rows skipped — h2load is not installed (apt-get install nghttp2-client)');
  try {
    for (const scenario of all) {
      let cpuBefore = 0;
      const m = await scenario.measure({
        gateway, grpcAddress: `127.0.0.1:${grpcPort}`, key: KEY, model: MODEL, connections: CONNECTIONS, durationS, rowsPerRequest: ROWS_PER_REQUEST, pixels,
        onMeasureStart: () => (cpuBefore = cpuSeconds(pid)), workerSuccesses,
      });
      const cpu = cpuSeconds(pid) - cpuBefore;
      record({ scenario: scenario.name, concurrency: CONNECTIONS, ...m, gatewayCpuSecondsPer1000: (cpu / m.requests) * 1000 });
    }
    if (all !== scenarios) await benchFloors(pixels, durationS, record);
  } finally {
    await gateway.stop();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** What each transport costs a Node server that answers at once (`transport-floors.ts`), under the same h2load load and bodies. */
async function benchFloors(pixels: Float32Array, durationS: number, record: (row: TransportRow) => void): Promise<void> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(import.meta.dirname, 'transport-floors.ts'), ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => line === 'listening' && resolve());
      child.once('exit', (code) => reject(new Error(`transport-floors.ts exited (${code}) before listening`)));
    });
    const binary = binaryRequest(ROWS_PER_REQUEST, pixels);
    const frame = modelInferFrame(grpcRequest(MODEL, ROWS_PER_REQUEST, pixels));
    const floors: Array<[string, Omit<H2loadOptions, 'connections' | 'durationS'>]> = [
      ['floor: node:http (HTTP/1.1)', { url: `http://127.0.0.1:${ports[0]}/v2/models/${MODEL}/infer`, protocol: 'http/1.1', body: binary.body, headers: binary.headers }],
      ['floor: node:http2 (h2c)', { url: `http://127.0.0.1:${ports[1]}/inference.GRPCInferenceService/ModelInfer`, protocol: 'h2c', body: frame, headers: GRPC_HEADERS }],
      ['floor: grpc-js Server (h2c)', { url: `http://127.0.0.1:${ports[2]}/inference.GRPCInferenceService/ModelInfer`, protocol: 'h2c', body: frame, headers: GRPC_HEADERS }],
    ];
    const pid = child.pid ?? 0;
    for (const [scenario, options] of floors) {
      let before = 0;
      const r = await runH2load({ ...options, connections: CONNECTIONS, durationS, onMeasureStart: () => void (before = cpuSeconds(pid)) });
      const cpu = cpuSeconds(pid) - before;
      record({
        scenario, concurrency: CONNECTIONS, rowsPerSecond: (r.ok * ROWS_PER_REQUEST) / r.elapsedS, p50Ms: r.p50Ms, p99Ms: r.p99Ms,
        requests: r.ok + r.errors, errors: r.errors, gatewayCpuSecondsPer1000: (cpu / Math.max(1, r.ok)) * 1000,
      });
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
}
