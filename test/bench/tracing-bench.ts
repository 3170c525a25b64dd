/**
 * Tracing overhead on the gateway: seed-classifier through the gateway with
 * tracing off, on with 100% sampling, and on with 10% sampling, exporting
 * OTLP/HTTP JSON to a local receiver. Same worker, one gateway at a time.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGatewayProcess, startWorkerProcess } from '@switchyard/fleet/worker-process';
import { stringify } from 'yaml';
import { startOtlpReceiver } from '../src/otlp-receiver.ts';
import { measureHttp } from './http-load.ts';
import type { Measurement } from './measurement.ts';

export interface TracingRow extends Measurement {
  scenario: string;
  concurrency: number;
}

const KEY = 'sy_bench_key';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.25, -0.5] }] });

export async function benchTracing(repository: string, durationS: number, record: (row: TracingRow) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-trace-bench-'));
  const receiver = await startOtlpReceiver();
  const worker = await startWorkerProcess({ model: 'seed-classifier', repository, versions: [1], env: { LOG_LEVEL: 'warn' } });
  const configPath = join(dir, 'switchyard.yaml');
  await writeFile(configPath, stringify({
    version: 1,
    auth: { api_keys: [{ id: 'bench', sha256: createHash('sha256').update(KEY).digest('hex'), tenant: 'bench', scopes: ['infer:*'] }] },
    models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [worker.url] }] } },
  }));
  const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' };
  const modes: Array<[string, Record<string, string>]> = [
    ['tracing off', {}],
    ['tracing on, 100% sampled', { ...otlp, OTEL_TRACES_SAMPLER: 'parentbased_always_on' }],
    ['tracing on, 10% sampled', { ...otlp, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }],
  ];
  try {
    for (const [scenario, env] of modes) {
      const gateway = await startGatewayProcess({ configPath, env: { LOG_LEVEL: 'warn', ...env } });
      try {
        for (let i = 0; i < 100 && (await fetch(`${gateway.url}/v2/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
        record({ scenario, concurrency: 32, ...(await measureHttp({ url: `${gateway.url}/v2/models/seed-classifier/infer`, body: BODY, connections: 32, durationS, rowsPerRequest: 1, headers: { authorization: `Bearer ${KEY}` } })) });
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await worker.stop();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  }
}
