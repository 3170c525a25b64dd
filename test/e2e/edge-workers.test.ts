import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@switchyard/fleet/worker-process';
import { createInferenceClient, rawToValues, valuesToRaw } from '@switchyard/grpc/client';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually } from '../src/eventually.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FLEET_CLI = join(REPO, 'fleet/src/cli.ts');
const TSX = join(REPO, 'node_modules/tsx/dist/loader.mjs');

interface RepoConfig {
  gateway: Record<string, unknown>;
  models: Record<string, { variants: Array<{ port?: number }> }>;
  edge_workers: Record<string, { module: string }>;
  model_repository: string;
}

describe('edge workers in the local fleet', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the seed curl (POST /predict {"feature": "1.0,2.0"} with a key) from the repo\'s switchyard.yaml', async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-fleet-'));
    // The repository's own fleet file, on free ports, with seed-classifier only (to spare the machine).
    const config = parse(await readFile(join(REPO, 'switchyard.yaml'), 'utf8')) as RepoConfig;
    const [gatewayPort, adminPort, grpcPort, v1Port, v2Port, v1Grpc, v2Grpc] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    config.gateway = { ...config.gateway, port: gatewayPort, admin_port: adminPort, grpc_port: grpcPort, health_interval_ms: 200 };
    config.model_repository = join(dir, 'models');
    config.models = { 'seed-classifier': config.models['seed-classifier'] as RepoConfig['models'][string] };
    const [v1, v2] = config.models['seed-classifier']?.variants ?? [];
    Object.assign(v1 ?? {}, { port: v1Port, grpc_port: v1Grpc, replicas: 1 });
    Object.assign(v2 ?? {}, { port: v2Port, grpc_port: v2Grpc });
    for (const worker of Object.values(config.edge_workers)) worker.module = resolve(REPO, worker.module);
    await writeFile(join(dir, 'switchyard.yaml'), stringify(config));

    const cli = spawn(process.execPath, ['--import', TSX, FLEET_CLI], { cwd: dir, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => cli.once('exit', done));
    try {
      // The banner, or the runner ending early (the assertion below then shows why).
      await eventually(() => output.includes('Press Ctrl-C to stop.') || cli.exitCode !== null, Boolean, 90_000, 100);
      expect(output).toContain('Switchyard fleet is running.');
      const key = /dev key:\s+(\S+)/.exec(output)?.[1] ?? '';
      // Run the printed seed curl as printed.
      const curl = /curl -X POST -H "Content-Type: application\/json" -H "authorization: Bearer (\S+)" \\\n\s+-d '([^']+)' (\S+)/.exec(output);
      expect(curl?.[1]).toBe(key);
      expect(curl?.[2]).toBe('{"feature": "1.0,2.0"}');
      expect(curl?.[3]).toBe(`http://127.0.0.1:${gatewayPort}/predict`);
      const res = await fetch(curl?.[3] ?? '', { method: 'POST', headers: { 'Content-Type': 'application/json', authorization: `Bearer ${key}` }, body: curl?.[2] ?? '' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-switchyard-edge-worker')).toBe('seed-predict');
      const { prediction } = (await res.json()) as { prediction: number };
      // (1, 2) lies far outside the circle of radius 0.6.
      expect(prediction).toBeGreaterThanOrEqual(0);
      expect(prediction).toBeLessThan(0.5);

      // A gRPC call to v2 runs its post-processing edge worker, which passes the binary tensor answer through.
      const grpc = createInferenceClient(`127.0.0.1:${grpcPort}`);
      try {
        const reply = await grpc.modelInfer(
          { model_name: 'seed-classifier', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [valuesToRaw('FP32', [1, 2])] },
          { metadata: { authorization: `Bearer ${key}`, 'x-switchyard-variant': 'v2' } },
        );
        expect(reply.metadata['x-switchyard-edge-worker']).toBe('class-labels');
        const probabilities = rawToValues('FP32', reply.raw_output_contents[0] ?? new Uint8Array()) as number[];
        expect((probabilities[0] ?? 0) + (probabilities[1] ?? 0)).toBeCloseTo(1, 5);
      } finally {
        grpc.close();
      }

      const admin = await fetch(`http://127.0.0.1:${adminPort}/admin/edge-workers`, { headers: { authorization: `Bearer ${key}` } });
      expect(admin.status).toBe(200);
      const listed = (await admin.json()) as { edge_workers: Array<{ name: string; pid: number | null; breaker: string }> };
      expect(listed.edge_workers.map((w) => w.name).sort()).toEqual(['class-labels', 'seed-predict']);
      expect(listed.edge_workers.every((w) => typeof w.pid === 'number' && w.breaker === 'closed')).toBe(true);
    } finally {
      cli.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  }, 120_000);
});
