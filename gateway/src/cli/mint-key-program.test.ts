import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli } from './cli-runner.ts';
import { createMintKeyProgram } from './mint-key-program.ts';

async function mintKey(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (text: string) => void (stdout += text), stderr: (text: string) => void (stderr += text) };
  const code = await runCli(createMintKeyProgram(io), argv, io);
  return { code, stdout, stderr };
}

describe('mint-key CLI', () => {
  it('prints help on stdout and exits 0', async () => {
    const { code, stdout, stderr } = await mintKey(['--help']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: mint-key \[options\]\n/);
    for (const option of ['--id <id>', '--tenant <tenant>', '--scopes <scopes>', '--config <file>']) expect(stdout).toContain(option);
  });

  it('answers a missing or unknown option with one error line and the usage on stderr, exit 2', async () => {
    const usage = "usage: mint-key [options]\nrun 'mint-key --help' for details\n";
    expect(await mintKey(['--id', 'a', '--tenant', 't'])).toEqual({ code: 2, stdout: '', stderr: `mint-key: required option '--scopes <scopes>' not specified\n${usage}` });
    expect(await mintKey(['--id', 'a', '--tenant', 't', '--scopes', 'infer:*', '--bogus'])).toEqual({ code: 2, stdout: '', stderr: `mint-key: unknown option '--bogus'\n${usage}` });
  });

  it('prints the key once and adds only its digest to the config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mint-key-'));
    try {
      const config = join(dir, 'switchyard.yaml');
      await writeFile(config, 'version: 1\nauth:\n  api_keys: []\nmodels:\n  m:\n    stable: a\n    variants: [{ name: a, version: 1, weight: 100, port: 9999 }]\n');
      const { code, stdout, stderr } = await mintKey(['--id', 'ci', '--tenant', 'acme', '--scopes', 'infer:*, admin', '--config', config]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const key = /\n {2}(sy_[\w-]+)\n$/.exec(stdout)?.[1] ?? '';
      const written = parse(await readFile(config, 'utf8')) as { auth: { api_keys: unknown[] } };
      expect(written.auth.api_keys).toEqual([{ id: 'ci', tenant: 'acme', scopes: ['infer:*', 'admin'], sha256: createHash('sha256').update(key).digest('hex') }]);
      expect(await readFile(config, 'utf8')).not.toContain(key);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with the reason when the config file cannot be read', async () => {
    const { code, stdout, stderr } = await mintKey(['--id', 'ci', '--tenant', 'acme', '--scopes', 'infer:*', '--config', '/nonexistent/switchyard.yaml']);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(/^mint-key: ENOENT: no such file or directory.*\n$/);
  });
});
