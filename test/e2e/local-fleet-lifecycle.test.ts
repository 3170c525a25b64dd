/**
 * The local fleet behaves: a second fleet on the same ports is refused
 * without harming the first, edits to the fleet file start and stop
 * workers, one unreachable model leaves the gateway ready, and no fleet
 * process outlives the runner however it ends.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@switchyard/fleet/worker-process';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { allGone, collect, fleetRunning, listenerPids, REPO_ROOT, runFleet, writeFleetFile } from '../src/fleet-cli.ts';

const INFER = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

function infer(gateway: string, key: string, model = 'seed-classifier'): Promise<Response> {
  return fetch(`${gateway}/v2/models/${model}/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: INFER });
}

async function smallFleet(dir: string): Promise<{ ports: number[]; gateway: string; fleet: Record<string, unknown> }> {
  const [gatewayPort, adminPort, v1Port, v1Grpc] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const fleet = {
    gateway: { port: gatewayPort, admin_port: adminPort, health_interval_ms: 200 },
    models: { 'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, port: v1Port, grpc_port: v1Grpc }] } },
  };
  await writeFleetFile(dir, fleet);
  return { ports: [gatewayPort, adminPort, v1Port], gateway: `http://127.0.0.1:${gatewayPort}`, fleet };
}

describe('the local fleet', () => {
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-fleet-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('refuses a second fleet on the same ports, follows edits to the fleet file, and keeps the gateway ready when one model is unreachable', async () => {
    const dir = await tempDir();
    const { ports, gateway, fleet } = await smallFleet(dir);
    const first = runFleet(dir);
    try {
      const { key } = await fleetRunning(first);

      // A second fleet on the same file: refused before anything starts, naming the port and the owner.
      const second = runFleet(dir);
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`port ${ports[0]} (gateway) is in use by switchyard-gateway: another Switchyard fleet is running`);
      expect(second.output()).not.toContain('Switchyard fleet is running.');
      expect((await readFile(join(dir, '.switchyard', 'dev-api-key'), 'utf8')).trim()).toBe(key);
      expect((await infer(gateway, key)).status).toBe(200);

      // Add a variant and a model whose only upstream is unreachable.
      const v2Port = await freePort();
      const v1GrpcPort = ((fleet.models as Record<string, { variants: Array<{ grpc_port: number }> }>)['seed-classifier']?.variants[0]?.grpc_port) ?? 0;
      const deadPort = await freePort();
      const models = fleet.models as Record<string, { stable: string; variants: unknown[] }>;
      await writeFleetFile(dir, {
        ...fleet,
        models: {
          'seed-classifier': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 50, port: ports[2], grpc_port: v1GrpcPort }, { name: 'v2', version: 2, weight: 50, port: v2Port, grpc_port: await freePort() }] },
          'remote-model': { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [`http://127.0.0.1:${deadPort}`] }] },
        },
      });
      await eventually(() => first.output().includes('worker seed-classifier/v2#0 is ready'), Boolean, 120_000, 100);
      // The gateway reloads the file too: pinned v2 requests reach the new worker.
      const pinned = await eventually(
        async () => (await fetch(`${gateway}/v2/models/seed-classifier/versions/2/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: INFER })).status,
        (status) => status === 200,
        30_000,
      );
      expect(pinned).toBe(200);

      const ready = await fetch(`${gateway}/v2/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, unreachable_models: ['remote-model'] });
      const remoteReady = await fetch(`${gateway}/v2/models/remote-model/ready`, { headers: { authorization: `Bearer ${key}` } });
      expect(remoteReady.status).toBe(503);
      const remote = await infer(gateway, key, 'remote-model');
      expect(remote.status).toBe(503);
      expect(((await remote.json()) as { error: string }).error).toMatch(/no healthy upstream for model 'remote-model'/);
      expect((await infer(gateway, key)).status).toBe(200);

      // Remove the variant again: its worker stops.
      await writeFleetFile(dir, { ...fleet, models: { 'seed-classifier': models['seed-classifier'] } });
      await eventually(() => first.output().includes('worker seed-classifier/v2#0 stopped'), Boolean, 60_000, 100);
      await eventually(() => listenerPids([v2Port]).length, (n) => n === 0, 30_000);
      expect(first.output()).not.toContain('exited unexpectedly');
    } finally {
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
    }
    expect(first.output()).not.toContain('exited unexpectedly');
    expect(first.output()).toContain('[fleet] stopped');
  });

  it('leaves no process behind when npm start is sent SIGTERM', async () => {
    const dir = await tempDir();
    const { ports } = await smallFleet(dir);
    const npm = collect(spawn('npm', ['start', '--silent'], { cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'warn', SWITCHYARD_CONFIG: join(dir, 'switchyard.yaml') }, stdio: ['ignore', 'pipe', 'pipe'] }));
    await fleetRunning(npm);
    const pids = listenerPids(ports);
    expect(pids).toHaveLength(2); // gateway (request + admin ports) and one worker
    npm.child.kill('SIGTERM');
    await allGone(pids);
    await npm.exited;
  });

  it('leaves no process behind when the runner is killed with SIGKILL', async () => {
    const dir = await tempDir();
    const { ports } = await smallFleet(dir);
    const run = runFleet(dir);
    await fleetRunning(run);
    const pids = listenerPids(ports);
    expect(pids).toHaveLength(2);
    run.child.kill('SIGKILL');
    await allGone(pids);
    // Room for start-up and allGone's own 60 s on a loaded machine: a drain is bounded by the services' drain timeout.
  }, 150_000);

  it('stops the fleet when nobody reads its output any more', async () => {
    const dir = await tempDir();
    const { ports, gateway } = await smallFleet(dir);
    const run = runFleet(dir, { LOG_LEVEL: 'info' });
    const { key } = await fleetRunning(run);
    const pids = [...listenerPids(ports), run.child.pid ?? 0];
    expect(pids).toHaveLength(3);
    run.child.stdout.destroy(); // like `npm start | head -3` once head has exited
    // Each request logs a line the runner tries to print.
    await infer(gateway, key).catch(() => undefined);
    await infer(gateway, key).catch(() => undefined);
    await allGone(pids);
  });
});
