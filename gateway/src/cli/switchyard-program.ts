/**
 * The `switchyard` command tree: operate flags and rollouts through a
 * gateway's admin API. Tables by default; `--json` prints the admin API's
 * answer unchanged (snake_case). Run it with `runCli` (cli-runner.ts), which
 * owns help, usage errors and exit codes.
 */
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { AdminClient } from './admin-client.ts';
import { runEdgeTest } from './edge-test.ts';
import { edgeWorkersTable, flagsTable, historyTable, statsTable, statusText, type AuditView, type EdgeWorkerView, type FlagView, type StatsView, type StatusView } from './admin-tables.ts';
import { EXIT_USAGE, type CliIo } from './cli-runner.ts';
import { parseFlagsFile, readFlagsInput } from './flags-file.ts';

export interface SwitchyardCliOptions {
  io: CliIo;
  /** Admin API base URL unless `--url` is given (the entry reads SWITCHYARD_ADMIN_URL). */
  adminUrl: string;
  /** Admin key unless `--key` is given (the entry reads SWITCHYARD_ADMIN_KEY or the local fleet's dev key). */
  adminKey: string | undefined;
  /** Read by `flags set <model> -`. */
  stdin: AsyncIterable<string | Uint8Array>;
  /** The fetch the admin client uses. Default: the global fetch (tests pass an admin app's own). */
  fetch?: typeof fetch;
}

interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8081';
export const EXAMPLE_FLAGS_FILE = 'gateway/examples/flags/seed-classifier.json';

function percent(value: string): number {
  const n = Number(value.trim().replace(/%$/, ''));
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError(`'${value}' is not a percentage between 0 and 100`);
  return n;
}

function steps(value: string): number[] {
  return value.split(',').map(percent);
}

function positive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
}

function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`'${value}' is not a whole number from ${min} to ${max}`);
    return n;
  };
}

const path = (model: string) => encodeURIComponent(model);

const GLOBAL_HELP = `
Admin API: --url, else SWITCHYARD_ADMIN_URL, else ${DEFAULT_ADMIN_URL}.
Key (scope 'admin'): --key, else SWITCHYARD_ADMIN_KEY, else the local fleet's .switchyard/dev-api-key.
Exit codes: 0 done; 1 the admin API refused the change (the reason is printed) or could not be reached,
or a flags file could not be read or parsed; 2 the command line is wrong (unknown command or option,
missing or invalid argument).`;

const FLAGS_FILE_HELP = `
The file is what 'flags get <model> --json' prints: {"version": n, "updated_at": ..., "updated_by": ..., "state": {...}}.
Only "state" is required. With "version" the write succeeds only if the flags are still at that version
(so an edit never overwrites someone else's change); --force ignores it. A bare rollout state
({"stable": ..., "weights": {...}, ...}) is accepted too. Example: ${EXAMPLE_FLAGS_FILE}.
  switchyard flags get seed-classifier --json > flags.json   # edit, then:
  switchyard flags set seed-classifier flags.json
  switchyard flags get seed-classifier --json | switchyard flags set seed-classifier -`;

/** Builds a fresh command tree (commander keeps parse state, so one per run). */
export function createSwitchyardProgram(options: SwitchyardCliOptions): Command {
  const { io } = options;
  const client = (command: Command) => {
    const { url, key } = command.optsWithGlobals<GlobalOptions>();
    const adminKey = key ?? options.adminKey;
    if (!adminKey) throw new Error('no admin key: pass --key, set SWITCHYARD_ADMIN_KEY, or run the local fleet (npm start) in this folder');
    return new AdminClient(url ?? options.adminUrl, adminKey, options.fetch);
  };
  const print = (command: Command, data: unknown, human: () => string) =>
    io.stdout(`${command.optsWithGlobals<GlobalOptions>().json ? JSON.stringify(data, null, 2) : human()}\n`);
  const printFlag = (command: Command, model: string, view: FlagView) => print(command, view, () => flagsTable({ [model]: view }));

  const program = new Command('switchyard')
    .description("Operate a Switchyard gateway's flags and rollouts through its admin API.")
    .option('--url <url>', `admin API base URL (default: SWITCHYARD_ADMIN_URL or ${DEFAULT_ADMIN_URL})`)
    .option('--key <key>', 'admin key (default: SWITCHYARD_ADMIN_KEY or .switchyard/dev-api-key)')
    .option('--json', "print the admin API's answer as JSON instead of a table")
    .addHelpText('after', GLOBAL_HELP);

  const edge = program.command('edge').description('see and develop edge workers');
  edge
    .command('list')
    .description("this gateway's edge workers: module, isolation, failure policy, limits, process, restarts, in-flight requests, breaker")
    .action(async (_options: unknown, command: Command) => {
      const answer = await client(command).call<{ edge_workers: EdgeWorkerView[] }>('GET', '/admin/edge-workers');
      print(command, answer, () => edgeWorkersTable(answer.edge_workers));
    });
  edge
    .command('test <module>')
    .description('run an edge-worker module in its own least-privilege Deno process, in front of a stub model (or --model-url), and send it one request')
    .option('--path <path>', 'request path', '/predict')
    .option('--data <body>', 'request body', '')
    .option('--model <name>', 'model name the module sees and may call', 'seed-classifier')
    .option('--model-url <url>', 'a real model worker to call instead of the stub')
    .option('--stub <json>', 'what the stub model answers to every inference')
    .option('--var <name=value...>', 'a var for the module (repeatable)')
    .action(async (module: string, opts: { path: string; data: string; model: string; modelUrl?: string; stub?: string; var?: string[] }, command: Command) => {
      const vars = Object.fromEntries((opts.var ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
      const result = await runEdgeTest({
        module, path: opts.path, data: opts.data, model: opts.model, vars,
        ...(opts.modelUrl ? { modelUrl: opts.modelUrl } : {}),
        ...(opts.stub ? { stubAnswer: JSON.parse(opts.stub) as unknown } : {}),
      });
      print(command, result, () => [`${result.status}`, ...Object.entries(result.headers).map(([k, v]) => `${k}: ${v}`), '', result.body, ...result.modelCalls.map((c) => `model call: POST ${c.path} ${c.body}`)].join('\n'));
      if (result.status >= 400) throw new Error(`the edge worker answered ${result.status}`);
    });

  program
    .command('status')
    .description("every model's flags, the flag store's health and the rollout lease holder")
    .action(async (_options: unknown, command: Command) => {
      const admin = client(command);
      const [flags, status] = await Promise.all([admin.call<Record<string, FlagView>>('GET', '/admin/flags'), admin.call<StatusView>('GET', '/admin/status')]);
      print(command, { flags, status }, () => statusText(flags, status));
    });

  program
    .command('rollout')
    .description("set the candidate's share of traffic now (--candidate), or start an automatic rollout (--plan)")
    .argument('<model>', 'model name')
    .addOption(new Option('--candidate <percent>', "the candidate's share now, e.g. 10%; the stable variant gets the rest").argParser(percent).conflicts('plan'))
    .addOption(new Option('--plan <steps>', 'shares per step, ascending, ending at 100, e.g. 5,25,50,100').argParser(steps))
    .addOption(new Option('--interval <seconds>', 'with --plan: how long each healthy step lasts (server default 60)').argParser(positive).conflicts('candidate'))
    .option('--variant <name>', 'the candidate variant (default: the current candidate)')
    .action(async (model: string, opts: { candidate?: number; plan?: number[]; interval?: number; variant?: string }, command: Command) => {
      const candidate = opts.variant ? { candidate: opts.variant } : {};
      let view: FlagView;
      if (opts.plan) {
        const body = { ...candidate, steps: opts.plan, ...(opts.interval === undefined ? {} : { interval_seconds: opts.interval }) };
        view = await client(command).call<FlagView>('POST', `/admin/rollouts/${path(model)}/start`, body);
      } else if (opts.candidate !== undefined) {
        view = await client(command).call<FlagView>('POST', `/admin/rollouts/${path(model)}/weights`, { ...candidate, percent: opts.candidate });
      } else {
        command.error('rollout needs --candidate <percent> or --plan <steps>', { exitCode: EXIT_USAGE, code: 'switchyard.missingOption' });
      }
      printFlag(command, model, view);
    });

  const simple: Array<[name: string, description: string]> = [
    ['pause', 'pause a running automatic rollout (the shares stay where they are)'],
    ['resume', 'resume a paused automatic rollout'],
    ['promote', 'make the candidate the stable variant with all traffic'],
    ['rollback', 'send all traffic back to the stable variant now; refused when there is nothing to roll back'],
  ];
  for (const [name, description] of simple) {
    program
      .command(name)
      .description(description)
      .argument('<model>', 'model name')
      .action(async (model: string, _options: unknown, command: Command) => {
        printFlag(command, model, await client(command).call<FlagView>('POST', `/admin/rollouts/${path(model)}/${name}`));
      });
  }

  const flags = program.command('flags').description("read and change a model's rollout state (weights, allow/deny lists, rules, kill switch)");
  flags
    .command('get')
    .description("one model's flags, or every model's")
    .argument('[model]', 'model name (default: every model)')
    .action(async (model: string | undefined, _options: unknown, command: Command) => {
      const admin = client(command);
      if (model) printFlag(command, model, await admin.call<FlagView>('GET', `/admin/flags/${path(model)}`));
      else {
        const all = await admin.call<Record<string, FlagView>>('GET', '/admin/flags');
        print(command, all, () => flagsTable(all));
      }
    });
  flags
    .command('set')
    .description("replace a model's rollout state with the one in a file (what 'flags get <model> --json' prints)")
    .argument('<model>', 'model name')
    .argument('<file>', "flags file, or '-' for standard input")
    .option('--force', "write even if the flags changed since the file was read (ignore its \"version\")")
    .addHelpText('after', FLAGS_FILE_HELP)
    .action(async (model: string, file: string, opts: { force?: boolean }, command: Command) => {
      const write = parseFlagsFile(await readFlagsInput(file, options.stdin), model, file === '-' ? 'standard input' : file);
      if (opts.force) delete write.expected_version;
      printFlag(command, model, await client(command).call<FlagView>('PUT', `/admin/flags/${path(model)}`, write));
    });
  flags
    .command('kill')
    .description('turn the kill switch on (everyone to the stable variant) or off')
    .argument('<model>', 'model name')
    .addArgument(new Argument('<switch>', 'on or off').choices(['on', 'off']))
    .action(async (model: string, state: 'on' | 'off', _options: unknown, command: Command) => {
      printFlag(command, model, await client(command).call<FlagView>('POST', `/admin/flags/${path(model)}/kill`, { on: state === 'on' }));
    });
  flags
    .command('reset')
    .description("back to the weights in switchyard.yaml (ends any rollout plan)")
    .argument('<model>', 'model name')
    .action(async (model: string, _options: unknown, command: Command) => {
      printFlag(command, model, await client(command).call<FlagView>('POST', `/admin/flags/${path(model)}/reset`));
    });

  program
    .command('history')
    .description("a model's audit history: version, time, who, what changed (newest first)")
    .argument('<model>', 'model name')
    .option('--limit <n>', 'how many entries (1 to 1000)', wholeNumber(1, 1000), 20)
    .action(async (model: string, opts: { limit: number }, command: Command) => {
      const entries = await client(command).call<AuditView[]>('GET', `/admin/history/${path(model)}?limit=${opts.limit}`);
      print(command, entries, () => historyTable(entries));
    });

  program
    .command('stats')
    .description("per-variant requests, success rate and p50/p99 latency measured by this gateway replica ('—' without requests)")
    .option('--window <seconds>', 'how far back (1 to 300)', wholeNumber(1, 300), 60)
    .action(async (opts: { window: number }, command: Command) => {
      const stats = await client(command).call<StatsView>('GET', `/admin/stats?window_seconds=${opts.window}`);
      print(command, stats, () => statsTable(stats));
    });

  return program;
}
