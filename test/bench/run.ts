#!/usr/bin/env node
/**
 * `npm run bench [-- --only=worker|gateway|proxies|transports|grpc|flags|tracing|edge]`: Switchyard's benchmarks.
 * Worker: on wide-mlp, raw in-process session.run at batch 1 and 32, and
 * the worker over HTTP with batching off and on at concurrency 1, 16 and 64;
 * on seed-classifier, worker latency at concurrency 1. Gateway: direct vs
 * through the gateway on seed-classifier. Proxies: cost per request of the
 * gateway next to nginx, HAProxy and a bare Node proxy under wrk, CPU per
 * request of proxy and worker. Transports: HTTP JSON, HTTP binary tensors
 * and gRPC through the gateway on image-stats; gRPC (`--only=grpc`):
 * HTTP JSON vs gRPC through one gateway process. Edge: seed-classifier
 * through the gateway with and without a pass-through edge worker at 1 and
 * 32 clients. Prints tables and target ratios,
 * writes bench-results/bench.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { hasSampleModels, writeSampleRepository } from '@switchyard/model-worker/samples';
import { benchEdge, type EdgeRow } from './edge-bench.ts';
import { benchFlags, type FlagRow } from './flags-bench.ts';
import { benchGateway, type GatewayRow } from './gateway-bench.ts';
import { benchGrpc, type GrpcRow } from './grpc-bench.ts';
import { benchProxies, type ProxyRow } from './proxies-bench.ts';
import { benchTracing, type TracingRow } from './tracing-bench.ts';
import { benchTransports, type TransportRow } from './transport-bench.ts';
import { benchWorker, type WorkerRow } from './worker-bench.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const repository = resolve(process.env.SWITCHYARD_MODEL_REPOSITORY ?? join(ROOT, 'models'));
const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const proxyDurationS = Number(process.env.BENCH_DURATION_S ?? 8);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const { values } = parseArgs({ options: { only: { type: 'string' } } });
const sections = values.only ? [values.only] : ['worker', 'gateway', 'proxies', 'transports', 'grpc', 'flags', 'tracing', 'edge'];

type AnyRow = WorkerRow | GatewayRow | ProxyRow | FlagRow | TracingRow | TransportRow | GrpcRow | EdgeRow;
type Row = AnyRow & { section: string };
const rows: Row[] = [];
const record = (section: string) => (row: AnyRow): void => {
  rows.push({ section, ...row });
  const cpu = 'gatewayCpuSecondsPer1000' in row && row.gatewayCpuSecondsPer1000 !== undefined ? `, ${row.scenario.startsWith('floor') ? 'server' : 'gateway'} CPU ${row.gatewayCpuSecondsPer1000.toFixed(3)} s/1000 req` : '';
  const proxyCpu = 'workerCpuMicrosPerRequest' in row ? `, proxy CPU ${row.proxyCpuMicrosPerRequest?.toFixed(1) ?? '—'} µs/req, worker CPU ${row.workerCpuMicrosPerRequest.toFixed(1)} µs/req` : '';
  const op = 'microsPerOp' in row && row.microsPerOp !== undefined ? `, ${row.microsPerOp.toFixed(3)} µs per evaluation` : '';
  console.log(`  ${row.scenario} @${row.concurrency}: ${row.rowsPerSecond.toFixed(0)} per s, p50 ${row.p50Ms.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms, errors ${row.errors}${cpu}${proxyCpu}${op}`);
};

if (!hasSampleModels(repository)) {
  console.log(`Writing sample models to ${repository} …`);
  await writeSampleRepository(repository);
}

if (sections.includes('worker')) await benchWorker(repository, durationS, record('worker'));
if (sections.includes('gateway')) {
  console.log('seed-classifier: direct vs through the gateway (auth + Redis rate limits + routing)');
  await benchGateway(repository, durationS, redisUrl, record('gateway'));
}

const proxyRows: ProxyRow[] = [];
if (sections.includes('proxies')) {
  console.log(`seed-classifier: direct vs nginx, HAProxy, a bare Node proxy and the gateway (wrk, 32 and 1 connections, ${proxyDurationS} s each)`);
  const recordProxy = record('proxies');
  await benchProxies(repository, proxyDurationS, redisUrl, (row) => {
    proxyRows.push(row);
    recordProxy(row);
  }, (line) => console.log(`  ${line}`));
}

if (sections.includes('transports')) {
  console.log('image-stats through the gateway at 32 clients: HTTP JSON vs HTTP binary tensors vs gRPC (Node clients, then h2load for all three)');
  await benchTransports(repository, durationS, record('transports'), (line) => console.log(`  ${line}`));
}
if (sections.includes('grpc')) {
  console.log('transports: HTTP JSON vs gRPC through one gateway process (seed-classifier, 64 rows per request)');
  await benchGrpc(repository, durationS, record('grpc'));
}

if (sections.includes('flags')) {
  console.log('flags: evaluation cost and propagation across two replicas (Redis)');
  await benchFlags(redisUrl, record('flags'));
}

if (sections.includes('tracing')) {
  console.log('tracing: gateway throughput with tracing off / on 100% / on 10% (OTLP to a local receiver)');
  await benchTracing(repository, durationS, record('tracing'));
}

if (sections.includes('edge')) {
  console.log('edge workers: seed-classifier through the gateway without and with a pass-through edge worker (Deno)');
  await benchEdge(repository, durationS, record('edge'));
}

const find = (section: string, scenario: string, concurrency: number) => rows.find((r) => r.section === section && r.scenario === scenario && r.concurrency === concurrency);
const ratios: Record<string, number> = {};
if (sections.includes('worker')) {
  const batched = find('worker', 'worker batching on', 64)?.rowsPerSecond ?? NaN;
  ratios.batchedVsUnbatchedAt64 = batched / (find('worker', 'worker batching off', 64)?.rowsPerSecond ?? NaN);
  ratios.batchedAt64VsRawBatch32 = batched / (find('worker', 'raw session.run batch 32', 1)?.rowsPerSecond ?? NaN);
}
if (sections.includes('gateway')) {
  for (const c of [1, 32]) {
    ratios[`gatewayVsDirectThroughputAt${c}`] = (find('gateway', 'through gateway', c)?.rowsPerSecond ?? NaN) / (find('gateway', 'direct to worker', c)?.rowsPerSecond ?? NaN);
  }
  ratios.gatewayAddedP50Ms = (find('gateway', 'latency probe: gateway', 1)?.p50Ms ?? NaN) - (find('gateway', 'latency probe: direct', 1)?.p50Ms ?? NaN);
}
if (sections.includes('proxies')) {
  const at = (prefix: string, c: number) => proxyRows.find((r) => r.scenario.startsWith(prefix) && r.concurrency === c);
  const direct32 = at('direct', 32)?.rowsPerSecond ?? NaN;
  for (const [name, prefix] of [['Nginx', 'nginx'], ['Haproxy', 'HAProxy'], ['BareNode', 'bare Node'], ['GatewayNoPolicies', 'Switchyard gateway, no'], ['GatewayFull', 'Switchyard gateway, full (']] as const) {
    const row = at(prefix, 32);
    if (!row) continue;
    ratios[`proxies${name}VsDirectAt32`] = row.rowsPerSecond / direct32;
    ratios[`proxies${name}CpuMicrosPerRequest`] = row.proxyCpuMicrosPerRequest ?? NaN;
  }
  ratios.proxiesGatewayFullCpuVsBareNode = (at('Switchyard gateway, full (', 32)?.proxyCpuMicrosPerRequest ?? NaN) / (at('bare Node', 32)?.proxyCpuMicrosPerRequest ?? NaN);
  ratios.proxiesWorkerCpuMicrosPerRequestDirect = at('direct', 32)?.workerCpuMicrosPerRequest ?? NaN;
  ratios.proxiesTracing10VsOffAt32 = (at('Switchyard gateway, full, tracing', 32)?.rowsPerSecond ?? NaN) / (at('Switchyard gateway, full (', 32)?.rowsPerSecond ?? NaN);
  ratios.proxiesGatewayFullAddedP50MsAt1 = (at('Switchyard gateway, full (', 1)?.p50Ms ?? NaN) - (at('direct', 1)?.p50Ms ?? NaN);
}
if (sections.includes('transports')) {
  const rate = (scenario: string) => find('transports', scenario, 32)?.rowsPerSecond ?? NaN;
  // The same C load generator for every transport, when h2load is installed; else the Node clients' figures.
  const tool = find('transports', 'h2load: HTTP binary tensors', 32) ? 'h2load: ' : '';
  ratios.httpBinaryVsJsonRowsPerSecond = rate(`${tool}HTTP binary tensors`) / rate(`${tool}HTTP JSON`);
  ratios.grpcVsHttpBinaryRowsPerSecond = rate(`${tool}gRPC raw contents`) / rate(`${tool}HTTP binary tensors`);
  ratios.httpBinaryVsJsonNodeClients = rate('HTTP binary tensors') / rate('HTTP JSON');
  ratios.grpcVsHttpBinaryNodeClients = rate('gRPC raw contents') / rate('HTTP binary tensors');
  const floorCpu = (scenario: string) => {
    const row = find('transports', scenario, 32);
    return (row && 'gatewayCpuSecondsPer1000' in row ? (row.gatewayCpuSecondsPer1000 ?? NaN) : NaN) * 1000;
  };
  ratios.floorHttp1CpuMicrosPerCall = floorCpu('floor: node:http (HTTP/1.1)');
  ratios.floorHttp2CpuMicrosPerCall = floorCpu('floor: node:http2 (h2c)');
  ratios.floorGrpcJsCpuMicrosPerCall = floorCpu('floor: grpc-js Server (h2c)');
}
if (sections.includes('grpc')) {
  const grpc = rows.find((r) => r.section === 'grpc' && r.scenario.startsWith('gateway gRPC'))?.rowsPerSecond ?? NaN;
  ratios.grpcVsHttpJsonThroughGateway = grpc / (rows.find((r) => r.section === 'grpc' && r.scenario.startsWith('gateway HTTP JSON'))?.rowsPerSecond ?? NaN);
}
if (sections.includes('tracing')) {
  const off = find('tracing', 'tracing off', 32)?.rowsPerSecond ?? NaN;
  ratios.tracingOn100VsOff = (find('tracing', 'tracing on, 100% sampled', 32)?.rowsPerSecond ?? NaN) / off;
  ratios.tracingOn10VsOff = (find('tracing', 'tracing on, 10% sampled', 32)?.rowsPerSecond ?? NaN) / off;
}
if (sections.includes('edge')) {
  const probe = (scenario: string) => find('edge', `latency probe: ${scenario}`, 1);
  ratios.edgeAddedP50MsProbe = (probe('with edge worker')?.p50Ms ?? NaN) - (probe('without edge worker')?.p50Ms ?? NaN);
  ratios.edgeAddedP99MsProbe = (probe('with edge worker')?.p99Ms ?? NaN) - (probe('without edge worker')?.p99Ms ?? NaN);
  for (const c of [1, 32]) {
    const without = find('edge', 'without edge worker', c);
    const withEdge = find('edge', 'with edge worker', c);
    ratios[`edgeAddedP50MsAt${c}`] = (withEdge?.p50Ms ?? NaN) - (without?.p50Ms ?? NaN);
    ratios[`edgeAddedP99MsAt${c}`] = (withEdge?.p99Ms ?? NaN) - (without?.p99Ms ?? NaN);
    ratios[`edgeVsNoEdgeThroughputAt${c}`] = (withEdge?.rowsPerSecond ?? NaN) / (without?.rowsPerSecond ?? NaN);
  }
}
if (sections.includes('flags')) {
  const propagation = find('flags', 'flag change propagation A → B (200 changes)', 1);
  ratios.flagPropagationP50Ms = propagation?.p50Ms ?? NaN;
  ratios.flagPropagationP99Ms = propagation?.p99Ms ?? NaN;
  ratios.flagEvaluationMicros = (find('flags', 'flag evaluation: OpenFeature client (gateway path)', 1) as FlagRow | undefined)?.microsPerOp ?? NaN;
}

if (proxyRows.length) {
  for (const c of [32, 1]) {
    const direct = proxyRows.find((r) => r.scenario.startsWith('direct') && r.concurrency === c)?.rowsPerSecond ?? NaN;
    console.log(`\nCost per request, seed-classifier, wrk ${c} connection${c === 1 ? '' : 's'}:\n`);
    console.log('| path | rows/s | ÷ direct | p50 ms | p99 ms | errors | proxy CPU µs/req | worker CPU µs/req |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of proxyRows.filter((row) => row.concurrency === c)) {
      console.log(`| ${r.scenario} | ${r.rowsPerSecond.toFixed(0)} | ${(r.rowsPerSecond / direct).toFixed(2)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.errors} | ${r.proxyCpuMicrosPerRequest?.toFixed(0) ?? '—'} | ${r.workerCpuMicrosPerRequest.toFixed(0)} |`);
    }
  }
}

console.log('\n| section | scenario | concurrency | rows/s (or ops/s) | p50 ms | p99 ms | errors | gateway (floor rows: server) CPU s / 1000 req | µs / evaluation |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const cpu = 'gatewayCpuSecondsPer1000' in r && r.gatewayCpuSecondsPer1000 !== undefined ? r.gatewayCpuSecondsPer1000.toFixed(3) : '';
  const op = 'microsPerOp' in r && r.microsPerOp !== undefined ? r.microsPerOp.toFixed(3) : '';
  const ms = (v: number) => (Number.isNaN(v) ? '' : v.toFixed(3));
  console.log(`| ${r.section} | ${r.scenario} | ${r.concurrency} | ${r.rowsPerSecond.toFixed(0)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${r.errors} | ${cpu} | ${op} |`);
}
console.log('');
const targets: Record<string, string> = {
  proxiesNginxVsDirectAt32: '×',
  proxiesHaproxyVsDirectAt32: '×',
  proxiesBareNodeVsDirectAt32: '×',
  proxiesGatewayNoPoliciesVsDirectAt32: '×',
  proxiesGatewayFullVsDirectAt32: '× (target ≥ 0.7×)',
  proxiesNginxCpuMicrosPerRequest: ' µs',
  proxiesHaproxyCpuMicrosPerRequest: ' µs',
  proxiesBareNodeCpuMicrosPerRequest: ' µs',
  proxiesGatewayNoPoliciesCpuMicrosPerRequest: ' µs (target ≤ 95 µs)',
  proxiesGatewayFullCpuMicrosPerRequest: ' µs (target ≤ 110 µs)',
  proxiesGatewayFullCpuVsBareNode: '× (gateway full ÷ bare Node proxy, CPU per request)',
  proxiesWorkerCpuMicrosPerRequestDirect: ' µs (worker, seed-classifier, target ≤ 80 µs)',
  proxiesTracing10VsOffAt32: '× (gateway full, tracing 10% ÷ off, target ≥ 0.85×)',
  proxiesGatewayFullAddedP50MsAt1: ' ms (wrk, 1 connection, target ≤ 0.3 ms)',
  batchedVsUnbatchedAt64: '× (target ≥ 5×)',
  batchedAt64VsRawBatch32: '× (target ≥ 0.6×)',
  gatewayVsDirectThroughputAt1: '×',
  gatewayVsDirectThroughputAt32: '× (target ≥ 0.8×)',
  gatewayAddedP50Ms: ' ms (target ≤ 0.5 ms)',
  flagPropagationP50Ms: ' ms',
  flagPropagationP99Ms: ' ms (target ≤ 100 ms)',
  flagEvaluationMicros: ' µs',
  httpBinaryVsJsonRowsPerSecond: '× (image-stats via gateway @32, h2load when installed, target ≥ 3×)',
  grpcVsHttpBinaryRowsPerSecond: '× (image-stats via gateway @32, h2load when installed, target ≥ 0.8×)',
  httpBinaryVsJsonNodeClients: '× (autocannon for both)',
  grpcVsHttpBinaryNodeClients: '× (32 grpc-js clients vs autocannon, all in the bench process)',
  floorHttp1CpuMicrosPerCall: ' µs (node:http server answering at once, same binary body, h2load)',
  floorHttp2CpuMicrosPerCall: ' µs (node:http2 server answering at once, same gRPC call, h2load)',
  floorGrpcJsCpuMicrosPerCall: ' µs (grpc-js Server answering at once, same gRPC call, h2load)',
  grpcVsHttpJsonThroughGateway: '× (gRPC rows/s ÷ HTTP JSON rows/s; the target compares gRPC with HTTP binary: see grpcVsHttpBinaryRowsPerSecond)',
  edgeAddedP50MsProbe: ' ms (target ≤ 0.5 ms; sequential probe, µs resolution)',
  edgeAddedP99MsProbe: ' ms',
  edgeAddedP50MsAt1: ' ms (load tool, whole ms)',
  edgeAddedP50MsAt32: ' ms',
  edgeAddedP99MsAt1: ' ms',
  edgeAddedP99MsAt32: ' ms',
  edgeVsNoEdgeThroughputAt1: '×',
  edgeVsNoEdgeThroughputAt32: '×',
  tracingOn100VsOff: '× (gateway throughput, tracing on 100% ÷ off)',
  tracingOn10VsOff: '× (gateway throughput, tracing on 10% ÷ off)',
};
for (const [name, value] of Object.entries(ratios)) console.log(`${name} = ${value.toFixed(3)}${targets[name] ?? ''}`);

const resultsDir = join(ROOT, 'bench-results');
await mkdir(resultsDir, { recursive: true });
const out = join(resultsDir, 'bench.json');
await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), durationS, rows, ratios }, null, 2)}\n`);
console.log(`\nwrote ${out}`);
