/**
 * Edge-worker cost: seed-classifier through one gateway process, without an
 * edge worker (`/v2/models/seed-classifier/infer`) and through a
 * pass-through edge worker that calls the model via `env.MODEL`
 * (`/edge/infer`), at 1 and 32 clients. Same worker, same gateway, one
 * scenario at a time; and the latency each adds, at one client, with
 * microsecond resolution (interleaved sequential probes).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startGatewayProcess, startWorkerProcess } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { measureHttp } from './http-load.ts';
import { probeLatencies } from './latency-probe.ts';
import type { Measurement } from './measurement.ts';

export interface EdgeRow extends Measurement {
  scenario: string;
  concurrency: number;
}

const KEY = 'sy_bench_key';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });
const PASS_THROUGH = `export default {
  fetch(request, env, ctx) {
    return env.MODEL.fetch('http://model/v2/models/' + ctx.model + '/infer', { method: 'POST', headers: { 'content-type': 'application/json' }, body: request.body });
  },
};`;

export async function benchEdge(repository: string, durationS: number, record: (row: EdgeRow) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-bench-'));
  const worker = await startWorkerProcess({ model: 'seed-classifier', repository, versions: [1], env: { LOG_LEVEL: 'warn' } });
  const configPath = join(dir, 'switchyard.yaml');
  await writeFile(join(dir, 'pass-through.ts'), PASS_THROUGH);
  await writeFile(configPath, stringify({
    version: 1,
    auth: { api_keys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), tenant: 'bench', scopes: ['infer:*'] }] },
    edge_workers: { 'pass-through': { module: 'pass-through.ts', memory_mb: 128 } },
    routes: [{ path: '/edge/infer', model: 'seed-classifier', edge_worker: 'pass-through' }],
    models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
  }));
  const gateway = await startGatewayProcess({ configPath, env: { LOG_LEVEL: 'warn', ADMIN_PORT: String(await freePort()) } });
  try {
    for (let i = 0; i < 100 && (await fetch(`${gateway.url}/v2/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const scenarios = [['without edge worker', '/v2/models/seed-classifier/infer'], ['with edge worker', '/edge/infer']] as const;
    // Microsecond resolution for the added latency: one client, the two paths in interleaved rounds.
    const probes = await probeLatencies(scenarios.map(([, path]) => ({ url: `${gateway.url}${path}`, body: BODY, headers: { authorization: `Bearer ${KEY}` } })), 4000);
    for (const [k, [scenario]] of scenarios.entries()) record({ scenario: `latency probe: ${scenario}`, concurrency: 1, ...(probes[k] as Measurement) });
    for (const connections of [1, 32]) {
      for (const [scenario, path] of scenarios) {
        record({ scenario, concurrency: connections, ...(await measureHttp({ url: `${gateway.url}${path}`, body: BODY, connections, durationS, rowsPerRequest: 1, headers: { authorization: `Bearer ${KEY}` } })) });
      }
    }
  } finally {
    await gateway.stop();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
