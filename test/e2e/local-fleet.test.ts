import { execSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@switchyard/fleet/worker-process';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

const FLEET_CLI = fileURLToPath(new URL('../../fleet/src/cli.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

async function portOpen(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/v2/health/live`, { signal: AbortSignal.timeout(500) });
    return true;
  } catch {
    return false;
  }
}

describe('the local fleet command', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('brings up workers and gateway from switchyard.yaml, prints a curl that works, restarts a crashed worker, and stops cleanly', async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-local-'));
    const [gatewayPort, adminPort, v1Port, v2Port, v1Grpc, v2Grpc] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    await writeFile(join(dir, 'switchyard.yaml'), stringify({
      version: 1,
      model_repository: join(dir, 'models'),
      gateway: { port: gatewayPort, admin_port: adminPort, health_interval_ms: 200 },
      models: {
        'seed-classifier': {
          stable: 'v1',
          variants: [
            { name: 'v1', version: 1, weight: 90, port: v1Port, grpc_port: v1Grpc },
            { name: 'v2', version: 2, weight: 10, port: v2Port, grpc_port: v2Grpc },
          ],
        },
      },
    }));
    const cli = spawn(process.execPath, ['--import', TSX, FLEET_CLI], { cwd: dir, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    cli.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));

    for (let i = 0; i < 600 && !output.includes('Press Ctrl-C to stop.'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('Switchyard fleet is running.');
    expect(output).toContain(`gateway:  http://127.0.0.1:${gatewayPort}`);

    // Run the printed curl line's request.
    const key = /dev key:\s+(\S+)/.exec(output)?.[1] ?? '';
    const curl = /curl -si (\S+) \\\n\s+-H "authorization: Bearer (\S+)" -H 'content-type: application\/json' \\\n\s+-d '([^']+)'/.exec(output);
    expect(curl?.[2]).toBe(key);
    const res = await fetch(curl?.[1] ?? '', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: curl?.[3] ?? '' });
    expect(res.status).toBe(200);
    expect(['v1', 'v2']).toContain(res.headers.get('x-switchyard-variant'));
    expect(((await res.json()) as { outputs: unknown[] }).outputs).toHaveLength(1);

    // Crash the candidate's worker: the fleet restarts it.
    expect(output).not.toContain('exited unexpectedly');
    const pid = execSync(`ss -ltnp 'sport = :${v2Port}'`).toString().match(/pid=(\d+)/)?.[1];
    expect(pid).toBeDefined();
    process.kill(Number(pid), 'SIGKILL');
    for (let i = 0; i < 100 && !output.includes('worker seed-classifier/v2#0 restarted'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain('worker seed-classifier/v2#0 exited unexpectedly');
    expect(output).toContain('worker seed-classifier/v2#0 restarted');
    expect(await portOpen(v2Port)).toBe(true);

    cli.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await Promise.all([gatewayPort, v1Port, v2Port].map(portOpen))).toEqual([false, false, false]);
  });
});
