#!/usr/bin/env node
/**
 * `npm test`: lint, type checks (tsc, and `deno check` of the services'
 * entries and apps), and every package's tests through turbo, run to the
 * end even when a task fails (`--continue`), then one closing
 * line with the totals over all packages: `N passed, N failed`. Exits
 * non-zero when any task failed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
const resultFile = (workspace: string): string => join(ROOT, workspace, '.vitest-results.json');
for (const workspace of workspaces) rmSync(resultFile(workspace), { force: true });

const turbo = spawn('npx', ['turbo', 'run', 'lint', 'typecheck', 'check:deno', 'test', '--concurrency=2', '--continue', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: ['ignore', 'pipe', 'inherit'],
});
// turbo prints one line per failed task at the end; keep them for the summary.
const failedTasks = new Set<string>();
let pending = '';
turbo.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  const lines = (pending + chunk.toString()).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const failed = /^\s*Failed:\s+(\S+)/.exec(line)?.[1] ?? /^\s{2,}(@switchyard\/\S+#\w+)\s*$/.exec(line)?.[1];
    if (failed) failedTasks.add(failed);
  }
});
const code = await new Promise<number>((resolve) => turbo.once('exit', (exit) => resolve(exit ?? 1)));

let passed = 0;
let failed = 0;
let skipped = 0;
const missing: string[] = [];
const brokenFiles: string[] = [];
for (const workspace of workspaces) {
  if (!existsSync(resultFile(workspace))) {
    missing.push(workspace);
    continue;
  }
  const results = JSON.parse(readFileSync(resultFile(workspace), 'utf8')) as {
    numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number;
    testResults: Array<{ name: string; status: string; message?: string; assertionResults: Array<{ status: string }> }>;
  };
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + results.numTodoTests;
  // A file that fails outside any test (a failing beforeAll, an import error) fails the tests it could not run.
  for (const file of results.testResults) {
    if (file.status !== 'failed' || file.assertionResults.some((t) => t.status === 'failed')) continue;
    const notRun = file.assertionResults.filter((t) => t.status !== 'passed').length;
    failed += Math.max(notRun, 1);
    skipped -= notRun;
    brokenFiles.push(`${workspace}/${relative(join(ROOT, workspace), file.name)}`);
  }
}
const notes = [
  failedTasks.size > 0 ? `failed tasks: ${[...failedTasks].join(', ')}` : '',
  missing.length > 0 ? `no test results from: ${missing.join(', ')}` : '',
  brokenFiles.length > 0 ? `test files that failed before their tests could run (their tests count as failed): ${brokenFiles.join(', ')}` : '',
  skipped > 0 ? `${skipped} skipped` : '',
].filter(Boolean);
if (notes.length > 0) process.stdout.write(`\n${notes.join('\n')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(code !== 0 || failed > 0 || missing.length > 0 ? 1 : code);
