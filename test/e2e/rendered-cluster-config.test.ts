/**
 * The in-cluster config, exercised: the gateway process runs the
 * switchyard.yaml the mesh renderer puts in the ConfigMap, byte for byte,
 * with the API keys file the Secret would mount. Each variant's rendered
 * Service name resolves (through a test-only DNS hook) to its own loopback
 * address, where a worker process serves only that variant's version on the
 * rendered port — as each variant's Service selects only its own pods.
 */
import { createHash, randomBytes } from 'node:crypto';
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
  const versionOf = new Map<string, string>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-cluster-'));
    const configText = await renderedConfigMapFile();
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

  it('serves pinned versions from the variant that runs them', async () => {
    for (const [variant, version] of [['v1', '1'], ['v2', '2']] as const) {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => infer(gateway.url, `/v2/models/seed-classifier/versions/${version}/infer`, `pinned-${i}`, i)));
      expect(answers.map((a) => [a.status, a.variant, a.version])).toEqual(Array.from({ length: 25 }, () => [200, variant, version]));
    }
  });
});
