#!/usr/bin/env node
/**
 * `npm run switchyard -- <command>`: operate flags and rollouts through a
 * gateway's admin API (`--help` lists the commands; README "CLI"). This
 * entry reads the environment and the local fleet's dev key, then runs the
 * command tree of switchyard-program.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { runCli } from './cli-runner.ts';
import { createSwitchyardProgram, DEFAULT_ADMIN_URL } from './switchyard-program.ts';

const DEV_KEY_PATH = '.switchyard/dev-api-key';

const io = { stdout: (text: string) => process.stdout.write(text), stderr: (text: string) => process.stderr.write(text) };
const program = createSwitchyardProgram({
  io,
  adminUrl: process.env.SWITCHYARD_ADMIN_URL ?? DEFAULT_ADMIN_URL,
  adminKey: process.env.SWITCHYARD_ADMIN_KEY ?? (existsSync(DEV_KEY_PATH) ? readFileSync(DEV_KEY_PATH, 'utf8').trim() : undefined),
  stdin: process.stdin,
});
process.exitCode = await runCli(program, process.argv.slice(2), io);
