import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { createAdminApp } from '../admin/admin-app.ts';
import { MemoryFlagStore } from '../flags/memory-flag-store.ts';
import { seedFlags } from '../flags/seed-flags.ts';
import { VariantStats } from '../rollout/variant-stats.ts';
import { sha256 } from '../testing/gateway-harness.ts';
import { runCli } from './cli-runner.ts';
import { createSwitchyardProgram } from './switchyard-program.ts';

const ADMIN_KEY = 'sy_cli_admin_key';
const config = parseFleetConfig(
  {
    version: 1,
    auth: { api_keys: [{ id: 'ops', sha256: sha256(ADMIN_KEY), tenant: 'acme', scopes: ['admin'] }] },
    models: { m: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 90, port: 9990 }, { name: 'v2', version: 2, weight: 10, port: 9991 }] } },
  },
  'test',
);

interface FlagJson { version: number; state: Record<string, unknown> & { weights: Record<string, number>; kill: boolean } }

/** A real admin app in-process; the CLI reaches it through the fetch it is given. */
async function gateway() {
  let now = 1_000_000;
  const store = new MemoryFlagStore();
  const stats = new VariantStats(() => now);
  await seedFlags(store, config);
  const app = createAdminApp({ config: () => config, store, stats, leadership: () => Promise.resolve({ holder: 'replica-1', self: 'replica-1' }), now: () => now });
  const cli = async (argv: string[], { stdin = '', key = ADMIN_KEY, url = 'http://admin.test' }: { stdin?: string; key?: string | null; url?: string } = {}) => {
    let stdout = '';
    let stderr = '';
    const io = { stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text) };
    const program = createSwitchyardProgram({
      io, adminUrl: url, adminKey: key ?? undefined, stdin: Readable.from([stdin]),
      ...(url === 'http://admin.test' ? { fetch: async (input: string | URL | Request, init?: RequestInit) => app.request(input, init) } : {}),
    });
    const code = await runCli(program, argv, io);
    return { code, stdout, stderr };
  };
  return { store, stats, cli, tick: (ms: number) => (now += ms) };
}

/** Every command path of the tree, e.g. ['flags', 'set']. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('switchyard CLI: help and usage errors', () => {
  const paths = commandPaths(createSwitchyardProgram({ io: { stdout: () => {}, stderr: () => {} }, adminUrl: '', adminKey: undefined, stdin: Readable.from([]) }));

  it('has the documented commands', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(['edge', 'edge list', 'edge test', 'status', 'rollout', 'pause', 'resume', 'promote', 'rollback', 'flags', 'flags get', 'flags set', 'flags kill', 'flags reset', 'history', 'stats']);
  });

  it('prints help on stdout and exits 0 for --help on every command and subcommand, and for `help <command>`', async () => {
    const { cli } = await gateway();
    for (const argv of [['--help'], ['help'], ...paths.flatMap((p) => [[...p, '--help'], ['help', ...p]])]) {
      const { code, stdout, stderr } = await cli(argv, { key: null });
      const path = argv.filter((a) => a !== '--help' && a !== 'help').join(' ');
      expect({ argv, code, stderr }).toEqual({ argv, code: 0, stderr: '' });
      expect(stdout).toMatch(new RegExp(`^Usage: switchyard ${path ? `${path} ` : ''}\\[options\\]`));
    }
  });

  it('answers a wrong command line with one error line and the usage on stderr, exit 2, never a stack trace', async () => {
    const { cli } = await gateway();
    const cases: Array<[string[], string, string]> = [
      [['bogus'], "unknown command 'bogus'", 'switchyard [options] [command]'],
      [['--bogus'], "unknown option '--bogus'", 'switchyard [options] [command]'],
      [['flags', 'get', '--bogus'], "unknown option '--bogus'", 'switchyard flags get [options] [model]'],
      [['flags', 'nope'], "unknown command 'nope'", 'switchyard flags [options] [command]'],
      [['help', 'flags', 'nope'], "unknown command 'nope'", 'switchyard flags [options] [command]'],
      [['bogus', '--help'], "unknown command 'bogus'", 'switchyard [options] [command]'],
      [['--url', 'http://x', 'flags', 'nope', '-h'], "unknown command 'nope'", 'switchyard flags [options] [command]'],
      [['rollback'], "missing required argument 'model'", 'switchyard rollback [options] <model>'],
      [['flags', 'set', 'm'], "missing required argument 'file'", 'switchyard flags set [options] <model> <file>'],
      [['flags', 'kill', 'm', 'maybe'], "command-argument value 'maybe' is invalid for argument 'switch'. Allowed choices are on, off.", 'switchyard flags kill [options] <model> <switch>'],
      [['rollout', 'm'], 'rollout needs --candidate <percent> or --plan <steps>', 'switchyard rollout [options] <model>'],
      [['rollout', 'm', '--candidate', '150%'], "option '--candidate <percent>' argument '150%' is invalid. '150%' is not a percentage between 0 and 100", 'switchyard rollout [options] <model>'],
      [['rollout', 'm', '--candidate', '5', '--plan', '5,100'], "option '--candidate <percent>' cannot be used with option '--plan <steps>'", 'switchyard rollout [options] <model>'],
      [['history', 'm', '--limit', 'ten'], "option '--limit <n>' argument 'ten' is invalid. 'ten' is not a whole number from 1 to 1000", 'switchyard history [options] <model>'],
      [['stats', 'extra'], "too many arguments for 'stats'. Expected 0 arguments but got 1.", 'switchyard stats [options]'],
    ];
    for (const [argv, error, usage] of cases) {
      const result = await cli(argv);
      const path = usage.split(' [')[0] ?? '';
      expect({ argv, ...result }).toEqual({ argv, code: 2, stdout: '', stderr: `switchyard: ${error}\nusage: ${usage}\nrun '${path} --help' for details\n` });
    }
  });

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const { cli } = await gateway();
    const { code, stdout, stderr } = await cli([]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(/^Usage: switchyard \[options\] \[command\]\n/);
  });
});

describe('switchyard CLI: flags files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-cli-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('accepts what `flags get <model> --json` prints, from a file and from standard input, and changes nothing else', async () => {
    const { cli, store } = await gateway();
    expect((await cli(['flags', 'kill', 'm', 'on'])).code).toBe(0);
    const printed = await cli(['flags', 'get', 'm', '--json']);
    expect(printed.code).toBe(0);
    const view = JSON.parse(printed.stdout) as FlagJson;
    expect(view).toMatchObject({ version: 2, updated_by: 'ops', state: { kill: true, weights: { v1: 90, v2: 10 } } });

    const file = join(dir, 'm.json');
    await writeFile(file, printed.stdout);
    expect(await cli(['flags', 'set', 'm', file])).toMatchObject({ code: 0, stderr: '' });
    expect(store.get('m')).toMatchObject({ version: 3, state: view.state });

    const again = (await cli(['flags', 'get', 'm', '--json'])).stdout;
    const fromStdin = await cli(['flags', 'set', 'm', '-', '--json'], { stdin: again });
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ version: 4, state: view.state });

    const everyModel = (await cli(['flags', 'get', '--json'])).stdout;
    expect(await cli(['flags', 'set', 'm', '-'], { stdin: everyModel })).toMatchObject({ code: 0, stderr: '' });
    expect(store.get('m')).toMatchObject({ version: 5, state: view.state });
  });

  it('refuses a file read before someone else changed the flags (409), unless --force', async () => {
    const { cli, store } = await gateway();
    const stale = (await cli(['flags', 'get', 'm', '--json'])).stdout;
    expect((await cli(['rollout', 'm', '--candidate', '30%'])).code).toBe(0);
    expect(await cli(['flags', 'set', 'm', '-'], { stdin: stale })).toEqual({
      code: 1, stdout: '', stderr: "switchyard: 'm' is at version 2, not 1; read the flags again and retry (HTTP 409)\n",
    });
    expect(store.get('m')?.state.weights).toEqual({ v1: 70, v2: 30 });
    expect((await cli(['flags', 'set', 'm', '-', '--force'], { stdin: stale })).code).toBe(0);
    expect(store.get('m')?.state.weights).toEqual({ v1: 90, v2: 10 });
  });

  it('reports an unreadable or malformed file and an invalid state with exit 1 and the reason', async () => {
    const { cli, store } = await gateway();
    const before = store.get('m');
    expect(await cli(['flags', 'set', 'm', join(dir, 'missing.json')])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^switchyard: cannot read .*missing\.json: ENOENT/) as unknown });
    expect(await cli(['flags', 'set', 'm', '-'], { stdin: '{"state": ' })).toMatchObject({ code: 1, stderr: expect.stringMatching(/^switchyard: standard input is not JSON/) as unknown });
    expect(await cli(['flags', 'set', 'm', '-'], { stdin: '{"state": {"stable": "v1", "weights": {"v1": 50}}}' })).toEqual({
      code: 1, stdout: '', stderr: 'switchyard: weights: weights must sum to 100, they sum to 50 (HTTP 400)\n',
    });
    expect(store.get('m')).toEqual(before);
  });
});

describe('switchyard CLI: rollouts, stats and JSON output', () => {
  it('refuses a rollback after a promotion, printing the reason, exit 1, recording nothing', async () => {
    const { cli, store } = await gateway();
    expect((await cli(['rollout', 'm', '--plan', '10,50,100', '--interval', '30'])).code).toBe(0);
    expect((await cli(['promote', 'm'])).code).toBe(0);
    const version = store.get('m')?.version;
    expect(await cli(['rollback', 'm'])).toEqual({
      code: 1, stdout: '', stderr: "switchyard: nothing to roll back: the rollout was already promoted (promoted by an operator); 'v2' is now the stable variant with all traffic (HTTP 409)\n",
    });
    expect(store.get('m')?.version).toBe(version);
  });

  it("shows '—' for a variant without requests, and its numbers once it has some", async () => {
    const { cli, stats, tick } = await gateway();
    for (let i = 0; i < 4; i++) stats.record('m', 'v1', i === 0 ? 503 : 200, 0.002, `user-${i}`);
    tick(1000);
    const { code, stdout } = await cli(['stats']);
    expect(code).toBe(0);
    const rows = stdout.trimEnd().split('\n').slice(2).map((line) => line.split(/\s{2,}/));
    expect(rows).toEqual([['m', 'v1', '4', '0.750', '2.00', '2.00'], ['m', 'v2', '0', '—', '—', '—']]);
  });

  it("prints every --json answer in the admin API's snake_case", async () => {
    const { cli, stats } = await gateway();
    stats.record('m', 'v1', 200, 0.001, 'user-0');
    const keys = (value: unknown): string[] =>
      Array.isArray(value) ? value.flatMap(keys)
      : typeof value === 'object' && value !== null ? Object.entries(value).flatMap(([k, v]) => [k, ...keys(v)])
      : [];
    await cli(['rollout', 'm', '--plan', '10,100']);
    for (const argv of [['status'], ['flags', 'get'], ['flags', 'get', 'm'], ['history', 'm'], ['stats'], ['pause', 'm']]) {
      const { code, stdout } = await cli([...argv, '--json']);
      expect(code).toBe(0);
      const seen = keys(JSON.parse(stdout));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((k) => !/^[a-z][a-z0-9_]*$/.test(k)), argv.join(' ')).toEqual([]);
    }
    expect(JSON.parse((await cli(['stats', '--json'])).stdout)).toEqual({
      m: { v1: { requests: 1, success_rate: 1, p50_ms: 1, p99_ms: 1 }, v2: { requests: 0, success_rate: null, p50_ms: null, p99_ms: null } },
    });
  });

  it('exits 1 with the reason when there is no key or the admin API cannot be reached', async () => {
    const { cli } = await gateway();
    expect(await cli(['status'], { key: null })).toEqual({
      code: 1, stdout: '', stderr: 'switchyard: no admin key: pass --key, set SWITCHYARD_ADMIN_KEY, or run the local fleet (npm start) in this folder\n',
    });
    const unreachable = await cli(['status'], { url: 'http://127.0.0.1:1' });
    expect(unreachable).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^switchyard: cannot reach the admin API at http:\/\/127\.0\.0\.1:1: /) as unknown });
    expect(await cli(['status', '--key', 'sy_wrong'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/\(HTTP 401\)\n$/) as unknown });
  });
});

describe('switchyard CLI: edge workers', () => {
  const worker = { name: 'seed-predict', module: 'examples/edge/seed-predict.ts', failure: 'fail', timeout_ms: 2000, memory_mb: 128, allow_net: [], endpoint: null, isolation: 'process', pid: 4242, restarts: 1, inflight: 0, breaker: 'closed' };
  const cliFor = (edgeWorkers: () => unknown[]) => {
    const app = createAdminApp({ config: () => config, store: new MemoryFlagStore(), stats: new VariantStats(() => 0), leadership: () => Promise.resolve({ holder: 'r', self: 'r' }), now: () => 0, edgeWorkers: edgeWorkers as never });
    return async (argv: string[]) => {
      let stdout = '';
      const io = { stdout: (text: string) => void (stdout += text), stderr: () => undefined };
      const program = createSwitchyardProgram({ io, adminUrl: 'http://admin.test', adminKey: ADMIN_KEY, stdin: Readable.from(['']), fetch: async (input: string | URL | Request, init?: RequestInit) => app.request(input, init) });
      return { code: await runCli(program, argv, io), stdout };
    };
  };

  it('lists the gateway\'s edge workers as a table, or the admin API\'s answer with --json', async () => {
    const cli = cliFor(() => [worker]);
    const listed = await cli(['edge', 'list']);
    expect(listed.code).toBe(0);
    const [header, , row] = listed.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['name', 'module', 'isolation', 'failure', 'timeout ms', 'memory MB', 'pid', 'restarts', 'in flight', 'breaker']);
    expect(row?.split(/\s{2,}/)).toEqual(['seed-predict', 'examples/edge/seed-predict.ts', 'process', 'fail', '2000', '128', '4242', '1', '0', 'closed']);
    const json = await cli(['edge', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ edge_workers: [worker] });
    expect((await cliFor(() => [])(['edge', 'list'])).stdout.trim()).toBe('no edge workers configured');
  });
});
