/**
 * The buffered stdout destination, in a child process: lines are written
 * without waiting for the buffer to fill (periodic flush), and every line
 * is out when the process exits, whichever way it exits.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const LOGGER = pathToFileURL(new URL('./logger.ts', import.meta.url).pathname).href;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Child {
  lines: () => string[];
  exited: Promise<number | null>;
  kill: () => void;
}

function run(body: string): Child {
  const script = `import { createLogger } from ${JSON.stringify(LOGGER)};\nconst logger = createLogger({ service: 't', bufferBytes: 16000 });\n${body}`;
  const child = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { lines: () => out.split('\n').filter(Boolean), exited, kill: () => child.kill('SIGKILL') };
}

describe('buffered stdout logs', () => {
  it('writes every line at process.exit, though the buffer never filled', async () => {
    const child = run("for (let i = 0; i < 200; i++) logger.info({ i }, 'line');\nprocess.exit(0);");
    expect(await child.exited).toBe(0);
    const numbers = child.lines().map((l) => (JSON.parse(l) as { i: number }).i);
    expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('writes every line when the process dies of an uncaught error', async () => {
    const child = run("for (let i = 0; i < 50; i++) logger.info({ i }, 'line');\nlogger.fatal('about to fail');\nsetImmediate(() => { throw new Error('boom'); });");
    expect(await child.exited).not.toBe(0);
    expect(child.lines()).toHaveLength(51);
  });

  it('writes a lone line within the flush interval while the process keeps running', async () => {
    const child = run("logger.info('first and only');\nsetInterval(() => undefined, 1000);");
    try {
      await vi.waitFor(() => expect(child.lines()).toHaveLength(1), { timeout: 10_000, interval: 20 });
      expect(JSON.parse(child.lines()[0] ?? '{}')).toMatchObject({ msg: 'first and only', service: 't' });
    } finally {
      child.kill();
    }
  });
});
