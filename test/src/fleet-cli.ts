/**
 * Runs the local fleet command (`npm start`'s runner) as a real process on a
 * fleet file of the test's own, and finds every process it started by the
 * ports they listen on.
 */
import { execFileSync, spawn, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { eventually } from './eventually.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FLEET_CLI = fileURLToPath(new URL('../../fleet/src/cli.ts', import.meta.url));
export const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));

export interface FleetRun {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
}

/** Writes `switchyard.yaml` into `dir` (models under `dir/models`). */
export async function writeFleetFile(dir: string, fleet: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'switchyard.yaml');
  await writeFile(path, stringify({ version: 1, model_repository: join(dir, 'models'), ...fleet }));
  return path;
}

/** Spawns the runner directly (no npm) with `dir` as its working directory. */
export function runFleet(dir: string, env: Record<string, string> = {}): FleetRun {
  const child = spawn(process.execPath, ['--import', TSX, FLEET_CLI], {
    cwd: dir,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child);
}

export function collect(child: ChildProcessByStdio<null, Readable, Readable>): FleetRun {
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits for the runner's "fleet is running" banner; fails with its output if it exits first. */
export async function fleetRunning(run: FleetRun, timeoutMs = 180_000): Promise<{ key: string }> {
  let exitCode: number | null | undefined;
  void run.exited.then((code) => (exitCode = code));
  await eventually(() => run.output().includes('Press Ctrl-C to stop.') || exitCode !== undefined, (done) => done, timeoutMs, 100).catch((error: Error) => {
    throw new Error(`${error.message}\n${run.output()}`);
  });
  if (exitCode !== undefined) throw new Error(`the fleet exited (code ${exitCode}) before it ran:\n${run.output()}`);
  const key = /dev key:\s+(\S+)/.exec(run.output())?.[1];
  if (!key) throw new Error(`no dev key printed:\n${run.output()}`);
  return { key };
}

/** PIDs listening on these TCP ports (from `ss`). */
export function listenerPids(ports: readonly number[]): number[] {
  const table = execFileSync('ss', ['-ltnpH']).toString();
  const pids = new Set<number>();
  for (const line of table.split('\n')) {
    const port = Number(/:(\d+)\s/.exec(line)?.[1]);
    if (!ports.includes(port)) continue;
    for (const match of line.matchAll(/pid=(\d+)/g)) pids.add(Number(match[1]));
  }
  return [...pids];
}

/** True while the process exists and is not a zombie (an exited child nobody has reaped yet). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // no such process
  }
}

/** Resolves once none of `pids` is alive; fails naming the survivors. */
export async function allGone(pids: readonly number[], timeoutMs = 60_000): Promise<void> {
  await eventually(() => pids.filter(alive), (left) => left.length === 0, timeoutMs, 100);
}
