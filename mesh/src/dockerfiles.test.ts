import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER = fileURLToPath(new URL('../docker/', import.meta.url));

interface Instruction { op: string; args: string }

function instructions(text: string): Instruction[] {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

describe('Dockerfiles (linted here; no container engine to build them)', async () => {
  const files = (await readdir(DOCKER)).filter((f) => f.endsWith('.Dockerfile'));
  const workspaces = (JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { workspaces: string[] }).workspaces;

  it('cover the gateway and the CPU and GPU workers', () => {
    expect(files.sort()).toEqual(['gateway.Dockerfile', 'worker-gpu.Dockerfile', 'worker.Dockerfile']);
  });

  it.each(files)('%s: multi-stage, production dependencies only, non-root, no HEALTHCHECK, exec-form CMD, sources that exist', async (file) => {
    const steps = instructions(await readFile(`${DOCKER}${file}`, 'utf8'));
    expect(steps.filter((s) => s.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    expect(steps.some((s) => s.op === 'HEALTHCHECK')).toBe(false);
    const install = steps.find((s) => s.op === 'RUN' && s.args.includes('npm ci'));
    expect(install?.args).toMatch(/--omit=dev/);
    const finalStage = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));
    const user = finalStage.find((s) => s.op === 'USER');
    expect(user && !/^(root|0)$/.test(user.args)).toBe(true);
    expect(finalStage.find((s) => s.op === 'CMD')?.args).toMatch(/^\["node", "--import", "tsx", "[\w/-]+\/src\/server\.ts"\]$/);
    expect(finalStage.some((s) => s.op === 'COPY' && s.args.startsWith('--from=deps /app/node_modules'))).toBe(true);
    // Every workspace manifest is copied before `npm ci`, or the lockfile would not match.
    const manifests = steps.filter((s) => s.op === 'COPY' && /package\.json/.test(s.args)).map((s) => s.args.split(/\s+/)[0]);
    for (const ws of workspaces) expect(manifests).toContain(`${ws}/package.json`);
    for (const s of steps.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      for (const source of s.args.split(/\s+/).slice(0, -1)) expect(existsSync(`${ROOT}${source}`), `${file}: COPY ${source}`).toBe(true);
    }
    if (!file.includes('gpu')) expect(steps.some((x) => x.op === 'ENV' && x.args.includes('ONNXRUNTIME_NODE_INSTALL=skip'))).toBe(true);
    else expect(steps.some((x) => x.op === 'ENV' && x.args.includes('ONNXRUNTIME_NODE_INSTALL=cuda12'))).toBe(true);
  });

  it('keep models, dependencies and local state out of the build context', async () => {
    const ignore = (await readFile(`${ROOT}.dockerignore`, 'utf8')).split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', 'models', '.switchyard', '.git']));
  });
});
