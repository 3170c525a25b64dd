/**
 * Runs a Switchyard service (worker or gateway) as a child process on Node
 * or on Deno: starts it on a given or free port, waits until its readiness
 * endpoint answers 200, and stops it with SIGTERM (graceful drain).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Lets OpenTelemetry patch packages the services load through ESM `import` (ioredis); must come before the entry runs. */
const TELEMETRY_REGISTER = pathToFileURL(createRequire(import.meta.url).resolve('@switchyard/observability/register')).href;

/**
 * How Node runs an entry: TypeScript sources through tsx's loader (development,
 * tests; resolved here so any working directory works), compiled entries
 * (`npm run build`) with the `switchyard-dist` export condition so every
 * Switchyard package resolves to its `dist/` too. Both load the telemetry
 * register module first.
 */
export function nodeArgsFor(entry: string): string[] {
  if (entry.endsWith('.ts')) return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, '--import', TELEMETRY_REGISTER, entry];
  return ['--conditions=switchyard-dist', '--import', TELEMETRY_REGISTER, entry];
}

/** The JavaScript runtime a service runs on. */
export type ServiceRuntime = 'node' | 'deno';

export const SERVICE_RUNTIMES: readonly ServiceRuntime[] = ['node', 'deno'];

/** Reads `SWITCHYARD_RUNTIME` (default `node`); anything else is refused with the accepted values. */
export function serviceRuntimeFrom(value: string | undefined): ServiceRuntime {
  if (value === undefined || value === '') return 'node';
  const runtime = SERVICE_RUNTIMES.find((r) => r === value);
  if (!runtime) throw new Error(`SWITCHYARD_RUNTIME must be one of ${SERVICE_RUNTIMES.join(', ')} (got '${value}')`);
  return runtime;
}

/** The repository's deno.json (beside the workspaces; the same path from src/ and dist/). */
const DENO_CONFIG = fileURLToPath(new URL('../../deno.json', import.meta.url));

/** The Deno binary the `deno` npm package (a root dev dependency) installed. */
export function denoExecutable(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('deno/package.json');
  } catch {
    throw new Error("running services on Deno needs the 'deno' npm package (a root dev dependency): run npm ci");
  }
  const binary = join(dirname(packageJson), process.platform === 'win32' ? 'deno.exe' : 'deno');
  if (!existsSync(binary)) throw new Error(`the 'deno' npm package has no binary at ${binary}: its install step did not run (npm ci)`);
  return binary;
}

/**
 * How Deno runs the same entry as Node (its Node compatibility serves
 * node:http, worker threads and N-API): `deno run -A` — all permissions,
 * for Switchyard's own first-party services, which read their files and
 * environment, listen, call Redis and upstreams, and load ONNX Runtime's
 * native library. The repository's deno.json sets
 * `nodeModulesDir: manual`, so npm packages and the workspaces resolve from
 * node_modules through their `exports`, as on Node; compiled entries get the
 * `switchyard-dist` condition.
 */
export function denoArgsFor(entry: string): string[] {
  const conditions = entry.endsWith('.ts') ? [] : ['--conditions=switchyard-dist'];
  return ['run', '-A', `--config=${DENO_CONFIG}`, '--node-modules-dir=manual', ...conditions, entry];
}

/** The command and arguments that start `entry` on `runtime`. */
export function commandFor(entry: string, runtime: ServiceRuntime): { command: string; args: string[] } {
  return runtime === 'deno' ? { command: denoExecutable(), args: denoArgsFor(entry) } : { command: process.execPath, args: nodeArgsFor(entry) };
}

export interface ServiceProcessOptions {
  /** Name used in errors, e.g. `seed-classifier/v2#0`. */
  name: string;
  /** Absolute path of the service's entry (the same file on Node and Deno). */
  entry: string;
  /** Default `node`. */
  runtime?: ServiceRuntime;
  /** Node only: flags put before the entry's own, e.g. `--cpu-prof` (which NODE_OPTIONS does not take). */
  nodeFlags?: string[];
  /** Default: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  env?: Record<string, string>;
  /** Path polled until it answers 200. Default `/v2/health/ready`. */
  readyPath?: string;
  onLine?: (line: string) => void;
  /** Default 120 s. */
  readyTimeoutMs?: number;
}

export interface ServiceProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Every line the service printed so far. */
  lines: string[];
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  /** Resolves with the exit code and the signal that ended it, if any. */
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (or `signal`), then resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const { name, entry, runtime = 'node', host = '127.0.0.1', env = {}, readyPath = '/v2/health/ready', onLine, readyTimeoutMs = 120_000 } = options;
  const port = options.port || (await freePort(host));
  const url = `http://${host}:${port}`;
  // The child watches its stdin, whose write end only this process holds: when this
  // process ends, however it ends, the child drains and exits (SWITCHYARD_EXIT_WITH_PARENT).
  const { command, args } = commandFor(entry, runtime);
  if (options.nodeFlags?.length && runtime === 'node') args.unshift(...options.nodeFlags);
  const child = spawn(command, args, {
    env: { ...process.env, PORT: String(port), HOST: host, SWITCHYARD_EXIT_WITH_PARENT: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => undefined); // EPIPE once the child has exited; its exit is reported through `ended`
  const lines: string[] = [];
  const record = (line: string): void => {
    lines.push(line);
    if (lines.length > 5000) lines.splice(0, 1000);
    onLine?.(line);
  };
  createInterface({ input: child.stdout }).on('line', record);
  createInterface({ input: child.stderr }).on('line', record);
  let exitCode: number | null | undefined;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code;
      resolve({ code, signal });
    }),
  );
  const exited = ended.then(({ code }) => code);

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await answers200(`${url}${readyPath}`))) {
    if (exitCode !== undefined) {
      await new Promise((r) => setTimeout(r, 50)); // let the last lines arrive
      throw new ServiceStartError(`${name} exited with code ${exitCode} before it was ready:\n${lines.slice(-20).join('\n')}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ServiceStartError(`${name} not ready within ${readyTimeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  return {
    name,
    url,
    port,
    child,
    lines,
    exited,
    ended,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
