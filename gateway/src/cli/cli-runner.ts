/**
 * Runs a commander program the way Switchyard's command-line tools behave:
 * `--help` (or `help <command>`) prints to stdout and exits 0; a wrong
 * command line (unknown command or option, missing or invalid argument)
 * prints one error line and the command's usage to stderr and exits 2; an
 * operation that fails prints its reason to stderr and exits 1. Never a
 * stack trace.
 */
import { CommanderError, type Command } from 'commander';

export const EXIT_OK = 0;
/** The operation failed: the admin API refused it or could not be reached, a file could not be read or parsed. */
export const EXIT_FAILED = 1;
/** The command line was wrong. */
export const EXIT_USAGE = 2;

/** Where a command writes; text is written as given (callers add newlines). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function usageHint(command: Command): string {
  const path = commandPath(command);
  return `usage: ${path} ${command.usage()}\nrun '${path} --help' for details`;
}

/** Applies the output, error and help settings to every command of the tree. */
function configure(command: Command, io: CliIo, tool: string): void {
  command
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`${tool}: ${text.replace(/^error: /, '')}`),
    })
    .showHelpAfterError(usageHint(command))
    .configureHelp({ showGlobalOptions: true });
  for (const sub of command.commands) configure(sub, io, tool);
}

function subcommand(command: Command, name: string): Command | undefined {
  return command.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

function unknownCommand(command: Command, name: string, io: CliIo): number {
  let root = command;
  while (root.parent) root = root.parent;
  io.stderr(`${root.name()}: unknown command '${name}'\n${usageHint(command)}\n`);
  return EXIT_USAGE;
}

/**
 * The first operand that names no subcommand where one is expected, with
 * the command that expected it. Commander would answer `bogus --help` with
 * the parent's help and exit 0; here it is an unknown command like any other.
 */
function unknownSubcommand(program: Command, argv: readonly string[]): { command: Command; name: string } | undefined {
  let command = program;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') return undefined;
    if (token.startsWith('-')) {
      const flag = token.split('=')[0] ?? token;
      let option;
      for (let c: Command | null = command; c && !option; c = c.parent) option = c.options.find((o) => o.long === flag || o.short === flag);
      if (option?.required && !token.includes('=')) i++; // its value is the next token
      continue;
    }
    if (command.commands.length === 0) return undefined;
    const sub = subcommand(command, token);
    if (!sub) return token === 'help' ? undefined : { command, name: token };
    command = sub;
  }
  return undefined;
}

/** `help a b` shows the help of `a b`; an unknown name is a usage error like any other. */
function showHelp(program: Command, names: readonly string[], io: CliIo): number {
  let command = program;
  for (const name of names) {
    const sub = subcommand(command, name);
    if (!sub) return unknownCommand(command, name, io);
    command = sub;
  }
  command.outputHelp();
  return EXIT_OK;
}

/**
 * Parses `argv` (the arguments after the script) and runs the chosen
 * action; resolves to the exit code. Errors thrown by actions are printed
 * as `<tool>: <message>`.
 */
export async function runCli(program: Command, argv: readonly string[], io: CliIo): Promise<number> {
  const tool = program.name();
  configure(program, io, tool);
  if (argv[0] === 'help' && argv.length > 1) return showHelp(program, argv.slice(1), io);
  const unknown = argv.some((a) => a === '--help' || a === '-h') ? unknownSubcommand(program, argv) : undefined;
  if (unknown) return unknownCommand(unknown.command, unknown.name, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    // Commander has already printed help, or the error line and the usage.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    io.stderr(`${tool}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILED;
  }
}
