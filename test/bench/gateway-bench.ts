/**
 * Gateway overhead on seed-classifier: direct to the worker vs through the
 * gateway with auth, rate limiting (Redis) and routing on, at concurrency 1
 * and 32; plus microsecond latency probes and the gateway's CPU per 1000
 * requests.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatewayProcess, startWorkerProcess } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { deleteKeys } from '../src/fleet-fixture.ts';
import { measureHttp } from './http-load.ts';
import { probeLatency } from './latency-probe.ts';
import type { Measurement } from './measurement.ts';
import { cpuSeconds } from './process-cpu.ts';

export interface GatewayRow extends Measurement {
  scenario: string;
  concurrency: number;
  gatewayCpuSecondsPer1000?: number;
}

const KEY = 'sy_bench_key';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });

export async function benchGateway(repository: string, durationS: number, redisUrl: string, record: (row: GatewayRow) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-gw-bench-'));
  const worker = await startWorkerProcess({ model: 'seed-classifier', repository, versions: [1], env: { LOG_LEVEL: 'warn' } });
  const configPath = join(dir, 'switchyard.yaml');
  await writeFile(configPath, stringify({
    version: 1,
    auth: { api_keys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), tenant: 'bench', scopes: ['infer:*'] }] },
    // Policies are evaluated on every request (one Redis round trip) but set high enough not to refuse.
    rate_limits: { policies: [{ name: 'tenant', per: 'tenant', rate: 1e6, burst: 1e6 }, { name: 'key', per: 'api_key', rate: 1e6, burst: 1e6 }] },
    models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
  }));
  const redisPrefix = `switchyard-bench:${randomUUID()}:`;
  const gateway = await startGatewayProcess({ configPath, env: { LOG_LEVEL: 'warn', REDIS_URL: redisUrl, SWITCHYARD_REDIS_PREFIX: redisPrefix } });
  for (let i = 0; i < 100 && (await fetch(`${gateway.url}/v2/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));

  const direct = `${worker.url}/v2/models/seed-classifier/versions/1/infer`;
  const through = `${gateway.url}/v2/models/seed-classifier/infer`;
  const auth = { authorization: `Bearer ${KEY}` };
  try {
    for (const connections of [1, 32]) {
      record({ scenario: 'direct to worker', concurrency: connections, ...(await measureHttp({ url: direct, body: BODY, connections, durationS, rowsPerRequest: 1 })) });
      let cpuBefore = 0;
      const pid = gateway.child.pid ?? 0;
      const m = await measureHttp({
        url: through, body: BODY, connections, durationS, rowsPerRequest: 1, headers: auth,
        onMeasureStart: () => (cpuBefore = cpuSeconds(pid)),
      });
      const cpu = cpuSeconds(pid) - cpuBefore;
      record({ scenario: 'through gateway', concurrency: connections, ...m, gatewayCpuSecondsPer1000: (cpu / m.requests) * 1000 });
    }
    record({ scenario: 'latency probe: direct', concurrency: 1, ...(await probeLatency({ url: direct, body: BODY, requests: 3000 })) });
    record({ scenario: 'latency probe: gateway', concurrency: 1, ...(await probeLatency({ url: through, body: BODY, headers: auth, requests: 3000 })) });
  } finally {
    await gateway.stop();
    await worker.stop();
    await rm(dir, { recursive: true, force: true });
    await deleteKeys(redisUrl, redisPrefix);
  }
}
