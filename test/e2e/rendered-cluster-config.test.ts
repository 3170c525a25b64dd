/**
 * The in-cluster config, exercised: the gateway process runs the
 * switchyard.yaml the mesh renderer puts in the ConfigMap, byte for byte,
 * with the API keys file the Secret would mount. Each variant's rendered
 * Service name resolves (through a test-only DNS hook) to its own loopback
 * address, where a worker process serves only that variant's version on the
 * rendered port — as each variant's Service selects only its own pods.
 * Each rendered edge sidecar of the gateway pod runs as a Deno process with
 * its rendered command line and ConfigMap items; only its loopback ports
 * (and the model binding's) are swapped for ports from the OS, in the
 * sidecar's arguments and the config alike, and its entry imports the
 * repository's host program instead of the image's copy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startGatewayProcess, startWorkerProcess, type ServiceProcess } from '@switchyard/fleet/worker-process';
import { writeSampleRepository } from '@switchyard/model-worker/samples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { eventually } from '../src/eventually.ts';

const RENDERED = fileURLToPath(new URL('../../mesh/base/identity.yaml', import.meta.url));
const RENDERED_GATEWAY = fileURLToPath(new URL('../../mesh/base/gateway.yaml', import.meta.url));
const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
const HOST_PROGRAM = new URL('../../gateway/src/edge/host/deno-host.ts', import.meta.url).href;
const HOST_IN_IMAGE = '/opt/switchyard/edge/host/deno-host.ts';
const DNS_HOOK = fileURLToPath(new URL('../src/cluster-dns-hook.mjs', import.meta.url));
/**
 * The rendered config keeps its rate limits (per key 100/s with a burst of 50, per tenant 200/s with 100):
 * each key, in its own tenant, carries at most 25 + 2 requests here, within its burst whatever the timing.
 */
const KEYS = Array.from({ length: 40 }, (_, i) => ({ id: `e2e-${i}`, key: `sy_${randomBytes(16).toString('hex')}`, tenant: `tenant-${i}` }));
const keyFor = (index: number) => KEYS[index % KEYS.length]?.key ?? '';
const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

interface RenderedVariant { name: string; version: number; weight: number; upstreams: string[] }
type RenderedFleet = { gateway: { port: number; admin_port: number }; models: Record<string, { stable: string; variants: RenderedVariant[] }> };

/** The `switchyard.yaml` of the rendered ConfigMap, as kubelet would mount it. */
async function renderedConfigMapFile(): Promise<string> {
  const docs = parseAllDocuments(await readFile(RENDERED, 'utf8')).map((d) => d.toJSON() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> });
  const text = docs.find((d) => d?.kind === 'ConfigMap' && d.metadata?.name === 'switchyard-config')?.data?.['switchyard.yaml'];
  if (text === undefined) throw new Error(`${RENDERED} has no ConfigMap switchyard-config with switchyard.yaml (run \`npm run mesh -- render\`)`);
  return text;
}

interface Sidecar { name: string; command: string[]; args: string[]; env: Array<{ name: string; value: string }>; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }
type GatewayPod = { containers: Sidecar[]; volumes: Array<{ name: string; configMap?: { items: Array<{ key: string; path: string }> } }> };

/** The gateway pod's edge sidecars and the ConfigMap's data, as rendered. */
async function renderedSidecars(): Promise<{ pod: GatewayPod; sidecars: Sidecar[]; data: Record<string, string> }> {
  const docs = (text: string) => parseAllDocuments(text).map((d) => d.toJSON() as { kind?: string; data?: Record<string, string>; spec?: { template: { spec: GatewayPod } } });
  const pod = docs(await readFile(RENDERED_GATEWAY, 'utf8')).find((d) => d?.kind === 'Deployment')?.spec?.template.spec as GatewayPod;
  const data = docs(await readFile(RENDERED, 'utf8')).find((d) => d?.kind === 'ConfigMap')?.data ?? {};
  return { pod, sidecars: pod.containers.filter((c) => c.name.startsWith('edge-')), data };
}

/** Swaps the rendered loopback ports for the ones given (text: arguments, settings JSON, the config). */
function remapPorts(text: string, ports: Map<number, number>): string {
  return text
    .replace(/127\.0\.0\.1:(\d+)/g, (match, port: string) => (ports.has(Number(port)) ? `127.0.0.1:${ports.get(Number(port))}` : match))
    .replace(/"port":(\d+)/g, (match, port: string) => (ports.has(Number(port)) ? `"port":${ports.get(Number(port))}` : match))
    .replace(/edge_binding_port: (\d+)/g, (match, port: string) => (ports.has(Number(port)) ? `edge_binding_port: ${ports.get(Number(port))}` : match));
}

async function infer(url: string, path: string, user: number | string, keyIndex = Number(user)): Promise<{ status: number; variant: string | null; version: string | undefined }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${keyFor(keyIndex)}`, 'content-type': 'application/json', 'x-switchyard-user': `user-${user}` }, body: BODY });
  const body = (await res.json()) as { model_version?: string };
  return { status: res.status, variant: res.headers.get('x-switchyard-variant'), version: body.model_version };
}

describe('the rendered in-cluster config (gateway and worker processes)', () => {
  let dir: string;
  let fleet: RenderedFleet;
  let gateway: ServiceProcess;
  const workers: ServiceProcess[] = [];
  const sidecars: ChildProcess[] = [];
  const versionOf = new Map<string, string>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-cluster-'));
    const rendered = await renderedSidecars();
    // Every loopback port the rendered pod uses (the sidecars' and the model binding's), from the OS here.
    const loopbackPorts = new Set<number>();
    for (const c of rendered.sidecars) for (const m of c.args.join(' ').matchAll(/127\.0\.0\.1:(\d+)/g)) loopbackPorts.add(Number(m[1]));
    const ports = new Map<number, number>();
    for (const port of loopbackPorts) ports.set(port, await freePort());
    const configText = remapPorts(await renderedConfigMapFile(), ports);
    fleet = parse(configText) as RenderedFleet;
    await mkdir(join(dir, 'etc', 'switchyard'), { recursive: true });
    await mkdir(join(dir, 'etc', 'switchyard-keys'), { recursive: true });
    const configPath = join(dir, 'etc', 'switchyard', 'switchyard.yaml');
    await writeFile(configPath, configText);
    const keysPath = join(dir, 'etc', 'switchyard-keys', 'api-keys.yaml');
    await writeFile(keysPath, stringify({ api_keys: KEYS.map(({ id, key, tenant }) => ({ id, sha256: createHash('sha256').update(key).digest('hex'), tenant, scopes: ['infer:*'] })) }));
    const repository = join(dir, 'models');
    await writeSampleRepository(repository);

    // A loopback address per rendered Service; the worker behind it serves that variant's version only.
    const subnet = 1 + randomBytes(1)[0]! % 250;
    const hosts: Record<string, string> = {};
    let next = 1;
    for (const [model, spec] of Object.entries(fleet.models)) {
      for (const variant of spec.variants) {
        expect(variant.upstreams).toHaveLength(1);
        const upstream = new URL(variant.upstreams[0] ?? '');
        const address = `127.77.${subnet}.${next++}`;
        hosts[upstream.hostname] = address;
        versionOf.set(`${model}/${variant.name}`, String(variant.version));
        workers.push(await startWorkerProcess({ model, repository, versions: [variant.version], name: `${model}/${variant.name}`, host: address, port: Number(upstream.port) }));
      }
    }
    expect(new Set(Object.keys(hosts)).size).toBe(workers.length);

    // The edge sidecars: rendered command line and module items; Deno's cache in the test's directory.
    expect(rendered.sidecars.map((c) => c.name).sort()).toEqual(['edge-class-labels', 'edge-seed-predict']);
    for (const c of rendered.sidecars) {
      const mount = c.volumeMounts.find((m) => m.readOnly) as { name: string; mountPath: string };
      const items = rendered.pod.volumes.find((v) => v.name === mount.name)?.configMap?.items ?? [];
      const moduleDir = join(dir, c.name);
      await mkdir(moduleDir, { recursive: true });
      for (const item of items) await writeFile(join(moduleDir, item.path), (rendered.data[item.key] ?? '').replace(HOST_IN_IMAGE, HOST_PROGRAM));
      const args = c.args.map((a) => remapPorts(a, ports).replace(mount.mountPath, moduleDir));
      expect(c.command).toEqual(['deno']);
      const env = Object.fromEntries(c.env.filter((e) => !e.name.startsWith('OTEL_')).map((e) => [e.name, e.value]));
      const child = spawn(DENO, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...env, DENO_DIR: join(dir, 'deno-cache'), PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
      sidecars.push(child);
      const [line] = (await Promise.race([once(child.stdout as NodeJS.ReadableStream, 'data'), once(child, 'exit').then(() => { throw new Error(`${c.name} exited before it was ready`); })])) as [Buffer];
      expect(line.toString()).toContain('ready');
    }
    gateway = await startGatewayProcess({
      configPath,
      port: await freePort(),
      env: {
        ADMIN_PORT: String(await freePort()),
        GRPC_PORT: String(await freePort()),
        SWITCHYARD_API_KEYS_FILE: keysPath,
        SWITCHYARD_TEST_HOSTS: JSON.stringify(hosts),
        NODE_OPTIONS: `--import ${DNS_HOOK}`,
        LOG_LEVEL: 'warn',
      },
    });
    await eventually(async () => (await fetch(`${gateway.url}/v2/health/ready`)).status, (s) => s === 200, 30_000);
    for (const model of Object.keys(fleet.models)) {
      await eventually(async () => (await fetch(`${gateway.url}/v2/models/${model}/ready`, { headers: { authorization: `Bearer ${keyFor(0)}` } })).status, (s) => s === 200, 30_000);
    }
  }, 180_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(sidecars.filter((c) => c.exitCode === null).map(async (c) => {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }));
    await Promise.all(workers.map((w) => w.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers 1,000 sticky requests across users with the version of the variant it reports, and no 404', async () => {
    const USERS = 200;
    const ROUNDS = 5;
    const results: Array<{ user: string; status: number; variant: string | null; version: string | undefined }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let batch = 0; batch < USERS; batch += 20) {
        const users = Array.from({ length: 20 }, (_, i) => batch + i);
        results.push(...(await Promise.all(users.map(async (user) => ({ user: `user-${user}`, ...(await infer(gateway.url, '/v2/models/seed-classifier/infer', user)) })))));
      }
    }
    expect(results).toHaveLength(USERS * ROUNDS);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const wrongVersion = results.filter((r) => r.version !== versionOf.get(`seed-classifier/${r.variant}`));
    expect(wrongVersion).toEqual([]);
    const variantOf = new Map<string, Set<string | null>>();
    for (const r of results) variantOf.set(r.user, (variantOf.get(r.user) ?? new Set()).add(r.variant));
    expect([...variantOf.values()].filter((seen) => seen.size !== 1)).toEqual([]);
    // The config's split (90/10) reaches both variants' Services.
    const onCandidate = [...variantOf.values()].filter((seen) => seen.has('v2')).length;
    expect(onCandidate).toBeGreaterThan(0);
    expect(onCandidate).toBeLessThan(USERS / 2);
  }, 120_000);

  it('serves /predict from the seed-predict sidecar, and labels v2\'s answers in the class-labels sidecar', async () => {
    const res = await fetch(`${gateway.url}/predict`, { method: 'POST', headers: { authorization: `Bearer ${keyFor(30)}`, 'content-type': 'application/json' }, body: '{"feature": "0.1,0.2"}' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-switchyard-edge-worker')).toBe('seed-predict');
    expect(((await res.json()) as { prediction: number }).prediction).toBeGreaterThan(0.5);
    const v2 = await fetch(`${gateway.url}/v2/models/seed-classifier/versions/2/infer`, { method: 'POST', headers: { authorization: `Bearer ${keyFor(31)}`, 'content-type': 'application/json' }, body: BODY });
    expect(v2.status).toBe(200);
    expect(v2.headers.get('x-switchyard-edge-worker')).toBe('class-labels');
    const answer = (await v2.json()) as { outputs: Array<{ labels?: string[] }> };
    expect(answer.outputs[0]?.labels).toEqual(['inside']);
  });

  it('serves pinned versions from the variant that runs them', async () => {
    for (const [variant, version] of [['v1', '1'], ['v2', '2']] as const) {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => infer(gateway.url, `/v2/models/seed-classifier/versions/${version}/infer`, `pinned-${i}`, i)));
      expect(answers.map((a) => [a.status, a.variant, a.version])).toEqual(Array.from({ length: 25 }, () => [200, variant, version]));
    }
  });
});
