import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const SCHEMAS = fileURLToPath(new URL('../schemas/', import.meta.url));
const MESH = fileURLToPath(new URL('../', import.meta.url));
/** Every object file the renderer writes (kustomization files excepted). */
const RENDERED = ['base', 'components/prometheus-operator', 'overlays/dev'];

type Manifest = { kind: string; metadata?: { name?: string } } & Record<string, unknown>;

describe('rendered manifests against strict schemas', () => {
  const validators = new Map<string, ValidateFunction>();
  let manifests: Manifest[];

  beforeAll(async () => {
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const file of await readdir(SCHEMAS)) validators.set(file.replace(/\.json$/, ''), ajv.compile(JSON.parse(await readFile(`${SCHEMAS}${file}`, 'utf8')) as object));
    manifests = [];
    for (const dir of RENDERED) {
      for (const file of (await readdir(`${MESH}${dir}`)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
        for (const doc of parseAllDocuments(await readFile(`${MESH}${dir}/${file}`, 'utf8'))) manifests.push(doc.toJSON() as Manifest);
      }
    }
  });

  const check = (m: Manifest): string[] => {
    const validate = validators.get(m.kind);
    if (!validate) return [`no schema for kind ${m.kind}`];
    const valid: boolean = validate(m);
    return valid ? [] : (validate.errors ?? []).map((e) => `${m.kind}/${m.metadata?.name}${e.instancePath}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`);
  };

  it('has a schema for, and passes it with, every rendered object', () => {
    expect(manifests.length).toBeGreaterThan(20);
    expect(new Set(manifests.map((m) => m.kind))).toEqual(new Set(['ServiceAccount', 'ConfigMap', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'PriorityClass', 'NetworkPolicy', 'Gateway', 'VirtualService', 'DestinationRule', 'PeerAuthentication', 'AuthorizationPolicy', 'Telemetry', 'PodMonitor']));
    expect(manifests.flatMap(check)).toEqual([]);
  });

  it('catches a misspelt field, a wrong type and a bad enum', () => {
    const deployment = structuredClone(manifests.find((m) => m.kind === 'Deployment')) as Manifest & { spec: Record<string, unknown> };
    deployment.spec.replcas = 2;
    expect(check(deployment)).toEqual([expect.stringMatching(/Deployment\/.*\/spec: must NOT have additional properties 'replcas'/)]);

    const typed = structuredClone(manifests.find((m) => m.kind === 'Deployment')) as Manifest & { spec: Record<string, unknown> };
    typed.spec.replicas = 'two';
    expect(check(typed).join('\n')).toMatch(/\/spec\/replicas: must be number/);

    const peer = structuredClone(manifests.find((m) => m.kind === 'PeerAuthentication')) as Manifest & { spec: { mtls: { mode: string } } };
    peer.spec.mtls.mode = 'STRICTEST';
    expect(check(peer).join('\n')).toMatch(/\/spec\/mtls\/mode: must be equal to one of the allowed values/);

    const vs = structuredClone(manifests.find((m) => m.kind === 'VirtualService')) as Manifest & { spec: { http: Array<Record<string, unknown>> } };
    const first = vs.spec.http[0];
    if (first) first.retrys = { attempts: 3 };
    expect(check(vs).join('\n')).toMatch(/additional properties 'retrys'/);
  });
});

describe('strict schemas', () => {
  it('are up to date with the type packages they are generated from (run `npm run schemas -w @switchyard/mesh`)', async () => {
    const { generateSchemas, schemaFileContent } = await import('../scripts/schema-generation.ts');
    for (const [kind, schema] of Object.entries(generateSchemas())) {
      expect(await readFile(`${SCHEMAS}${kind}.json`, 'utf8'), kind).toBe(schemaFileContent(kind, schema));
    }
  });
});
