/**
 * The `mint-key` command: prints a new API key once. Only its SHA-256 goes
 * into the config: with `--config` the entry is added to that file
 * (comments kept); either way the YAML entry is printed. Run it with
 * `runCli` (cli-runner.ts), which owns help, usage errors and exit codes.
 */
import { readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { addKeyToConfig, mintApiKey } from './api-key.ts';
import type { CliIo } from './cli-runner.ts';

/** Replaces the file in one rename, so the gateway's config watcher never reads half of it. */
async function replaceFile(path: string, text: string): Promise<void> {
  const target = await realpath(path);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: (await stat(target)).mode, flag: 'wx' });
  await rename(temporary, target);
}

const scopeList = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/** Builds a fresh command (commander keeps parse state, so one per run). */
export function createMintKeyProgram(io: CliIo): Command {
  const print = (text: string) => io.stdout(`${text}\n`);
  return new Command('mint-key')
    .description('Mint an API key for the gateway. The key is printed once; Switchyard stores only its SHA-256.')
    // No default scopes: a key's reach should be a decision, not `infer:*` by omission.
    .requiredOption('--id <id>', 'key id (shown in logs and the audit history)')
    .requiredOption('--tenant <tenant>', 'tenant the key belongs to (rate limits, routing rules)')
    .requiredOption('--scopes <scopes>', "comma-separated scopes, e.g. 'infer:*,variant:override' or 'admin'", scopeList)
    .option('--config <file>', 'add the entry to this switchyard.yaml (comments kept); without it the entry is only printed')
    .addHelpText('after', '\nExit codes: 0 minted; 1 the entry or the config file was refused (the reason is printed); 2 the command line is wrong.')
    .action(async (opts: { id: string; tenant: string; scopes: string[]; config?: string }) => {
      const { key, entry } = mintApiKey(opts.id, opts.tenant, opts.scopes);
      if (opts.config) {
        await replaceFile(opts.config, addKeyToConfig(await readFile(opts.config, 'utf8'), entry, opts.config));
        print(`Added to auth.api_keys in ${opts.config} (digest only; a running gateway picks it up on reload):`);
      } else {
        print('Add to auth.api_keys in switchyard.yaml:');
      }
      print(stringify([entry]));
      print(`API key '${entry.id}' (shown once: Switchyard stores only its SHA-256, so it cannot be shown again):\n  ${key}`);
    });
}
