#!/usr/bin/env node
/**
 * `npm run mint-key -- --id <id> --tenant <tenant> --scopes infer:*,variant:override [--config switchyard.yaml]`
 * (`--help` for details): the entry of mint-key-program.ts.
 */
import { runCli } from './cli-runner.ts';
import { createMintKeyProgram } from './mint-key-program.ts';

const io = { stdout: (text: string) => process.stdout.write(text), stderr: (text: string) => process.stderr.write(text) };
process.exitCode = await runCli(createMintKeyProgram(io), process.argv.slice(2), io);
