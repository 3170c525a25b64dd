import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EDGE_HOST_IN_IMAGE } from './render/edge-workers.ts';
import { CONFIG_DIR } from './render/gateway.ts';
import { RUN_AS } from './render/pod-defaults.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER = fileURLToPath(new URL('../docker/', import.meta.url));

interface Instruction { op: string; args: string }

function instructions(text: string): Instruction[] {
  return text.replace(/\\\n(\s*#.*\n)*/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const [op = '', ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(' ') };
  });
}

const finalStage = (steps: Instruction[]) => steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));
const env = (stage: Instruction[]) => Object.fromEntries(stage.filter((s) => s.op === 'ENV').flatMap((s) => s.args.split(/\s+/).map((kv) => kv.split('=') as [string, string])));
const read = async (file: string) => instructions(await readFile(`${DOCKER}${file}`, 'utf8'));

describe('Dockerfiles (linted here; mesh/scripts/podman-images.sh builds and runs them)', async () => {
  const files = (await readdir(DOCKER)).filter((f) => f.endsWith('.Dockerfile'));
  /** The Node services' images (the edge-worker image holds Deno and the host program only). */
  const services = files.filter((f) => f !== 'edge-worker.Dockerfile');
  const workspaces = (JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as { workspaces: string[] }).workspaces;

  it('cover the gateway, its edge-worker sidecars and the CPU and GPU workers', () => {
    expect(files.sort()).toEqual(['edge-worker.Dockerfile', 'gateway.Dockerfile', 'worker-gpu.Dockerfile', 'worker.Dockerfile']);
  });

  it.each(services)('%s: multi-stage, production dependencies only, the manifests\' uid, listening on all interfaces, qualified bases, sources that exist', async (file) => {
    const steps = await read(file);
    expect(steps.filter((s) => s.op === 'FROM').length).toBeGreaterThanOrEqual(2);
    for (const from of steps.filter((s) => s.op === 'FROM')) expect(from.args).toMatch(/^docker\.io\/[\w./-]+:[\w.-]+( AS \w+)?$/);
    expect(steps.some((s) => s.op === 'HEALTHCHECK')).toBe(false);
    const install = steps.find((s) => s.op === 'RUN' && s.args.includes('npm ci') && s.args.includes('--omit=dev'));
    expect(install?.args).toMatch(/--omit=dev/);
    const last = finalStage(steps);
    expect(last.find((s) => s.op === 'USER')?.args).toBe(`${RUN_AS}:${RUN_AS}`);
    expect(last.some((s) => s.op === 'RUN' && s.args.includes(`--uid ${RUN_AS} --gid ${RUN_AS}`))).toBe(true);
    expect(env(last).HOST).toBe('0.0.0.0');
    // Compiled JavaScript, no TypeScript loader at run time.
    expect(last.find((s) => s.op === 'CMD')?.args).toMatch(/^\["node", "--conditions=switchyard-dist", "--import", "@switchyard\/observability\/register", "[\w/-]+\/dist\/server\.js"\]$/);
    expect(steps.some((s) => s.op === 'RUN' && /npx tsc -p [\w-]+\/tsconfig\.build\.json/.test(s.args))).toBe(true);
    expect(last.some((s) => s.op === 'COPY' && s.args.startsWith('--from=deps /app/node_modules'))).toBe(true);
    // Every workspace manifest is copied before `npm ci`, or the lockfile would not match.
    const manifests = steps.filter((s) => s.op === 'COPY' && /package\.json/.test(s.args)).map((s) => s.args.split(/\s+/)[0]);
    for (const ws of workspaces) expect(manifests).toContain(`${ws}/package.json`);
    for (const s of steps.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      for (const source of s.args.split(/\s+/).slice(0, -1)) expect(existsSync(`${ROOT}${source}`), `${file}: COPY ${source}`).toBe(true);
    }
  });

  it('keep onnxruntime and the worker out of the gateway image, and point it at the config the manifests mount', async () => {
    const steps = await read('gateway.Dockerfile');
    const last = finalStage(steps);
    expect(env(last).SWITCHYARD_CONFIG).toBe(`${CONFIG_DIR}/switchyard.yaml`);
    expect(last.some((s) => s.op === 'COPY' && s.args.includes('model-workers'))).toBe(false);
    const install = steps.find((s) => s.op === 'RUN' && s.args.includes('npm ci') && s.args.includes('--omit=dev'))?.args ?? '';
    expect(install).toMatch(/--ignore-scripts/);
    expect(install).toMatch(/rm -rf node_modules\/onnxruntime-node node_modules\/onnxruntime-common node_modules\/onnx-proto node_modules\/@switchyard\/model-worker/);
  });

  it.each(['worker.Dockerfile', 'worker-gpu.Dockerfile'])('%s: only linux-x64 ONNX Runtime binaries', async (file) => {
    const install = (await read(file)).find((s) => s.op === 'RUN' && s.args.includes('npm ci') && s.args.includes('--omit=dev'))?.args ?? '';
    expect(install).toContain("find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path '*/linux/x64' -exec rm -rf {} +");
  });

  it('skip the CUDA download on CPU images and opt in on the GPU image, on a CUDA 12 / cuDNN 9 base', async () => {
    const cpu = await read('worker.Dockerfile');
    expect(cpu.find((s) => s.op === 'RUN' && s.args.includes('npm ci') && s.args.includes('--omit=dev'))?.args).toMatch(/--ignore-scripts/);
    const gpu = await read('worker-gpu.Dockerfile');
    expect(gpu.some((s) => s.op === 'ENV' && s.args.includes('ONNXRUNTIME_NODE_INSTALL=cuda12'))).toBe(true);
    expect(finalStage(gpu)[0]?.args).toMatch(/^docker\.io\/nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-/);
    // The project .npmrc skips the download; the GPU build must not copy it.
    expect(gpu.some((s) => s.op === 'COPY' && s.args.includes('.npmrc'))).toBe(false);
  });

  it('edge-worker: Deno from the lockfile\'s `deno` package, the host program where the rendered entries import it, the manifests\' uid, no Node', async () => {
    const steps = await read('edge-worker.Dockerfile');
    const gateway = await read('gateway.Dockerfile');
    // The same install as the gateway image's, so the two builds share the layer.
    const install = (list: Instruction[]) => list.find((s) => s.op === 'RUN' && s.args.includes('npm ci --omit=dev'))?.args;
    expect(install(steps)).toBe(install(gateway));
    const last = finalStage(steps);
    expect(last[0]?.args).toMatch(/^docker\.io\/library\/debian:bookworm-slim$/);
    expect(last.filter((s) => s.op === 'COPY').map((s) => s.args)).toEqual([
      '--from=deps /app/node_modules/@deno/linux-x64-glibc/deno /usr/local/bin/deno',
      'gateway/src/edge/contract.ts /opt/switchyard/edge/contract.ts',
      `gateway/src/edge/host/deno-host.ts ${EDGE_HOST_IN_IMAGE}`,
    ]);
    for (const s of last.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) expect(existsSync(`${ROOT}${s.args.split(/\s+/)[0]}`), s.args).toBe(true);
    expect(last.find((s) => s.op === 'USER')?.args).toBe(`${RUN_AS}:${RUN_AS}`);
    expect(env(last).DENO_DIR).toBe('/tmp/deno');
    expect(last.some((s) => s.op === 'RUN' && /\b(npm|node|curl|wget)\b/.test(s.args))).toBe(false);
  });

  it('keep models, dependencies, local state and tests out of the build context, but not the e2e manifest', async () => {
    const ignore = (await readFile(`${ROOT}.dockerignore`, 'utf8')).split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['**/node_modules', 'models', '.switchyard', '.git', 'test/**', '!test/package.json', '**/*.test.ts', '**/testing']));
  });
});
