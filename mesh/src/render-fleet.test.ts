import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderFleet } from './render-fleet.ts';
import { semanticProblems, type Manifest } from './semantic-checks.ts';

const MESH = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../switchyard.yaml', import.meta.url));
const documents = (text: string) => parseAllDocuments(text).map((d) => d.toJSON() as Manifest).filter(Boolean);

function kustomize(overlay: string): string {
  const result = spawnSync('kubectl', ['kustomize', `${MESH}overlays/${overlay}`], { encoding: 'utf8' });
  if (result.error) throw new Error(`kubectl is needed to render overlays offline: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${result.stderr}`);
  return result.stdout;
}

describe('mesh manifests', () => {
  it('are up to date with the renderer and switchyard.yaml (run `npm run mesh -- render`)', async () => {
    const files = renderFleet(await loadFleetConfig(EXAMPLE));
    expect(files.size).toBeGreaterThan(5);
    for (const [file, content] of files) expect(await readFile(`${MESH}${file}`, 'utf8'), file).toBe(content);
  });

  it.each(['dev', 'prod'])('render offline with kubectl kustomize (%s) and pass every cross-object check', (overlay) => {
    const manifests = documents(kustomize(overlay));
    expect(manifests.map((m) => m.kind)).toEqual(expect.arrayContaining(['Namespace', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'VirtualService', 'DestinationRule', 'PeerAuthentication', 'AuthorizationPolicy', 'Telemetry', 'Gateway', 'ConfigMap', 'ServiceAccount']));
    expect(semanticProblems(manifests)).toEqual([]);
  });

  it('puts GPU variants on the GPU pool in prod and on CPU in dev', () => {
    const wide = (overlay: string) => documents(kustomize(overlay)).find((m) => m.kind === 'Deployment' && m.metadata?.name === 'worker-wide-mlp-v1');
    const podOf = (m: Manifest | undefined) => (m?.spec as { template: { spec: { nodeSelector: Record<string, string>; containers: Array<{ resources: { limits: Record<string, string> } }> } } }).template.spec;
    expect(podOf(wide('prod')).nodeSelector['switchyard.dev/pool']).toBe('gpu');
    expect(podOf(wide('prod')).containers[0]?.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(podOf(wide('dev')).nodeSelector['switchyard.dev/pool']).toBe('cpu');
    expect(podOf(wide('dev')).containers[0]?.resources.limits['nvidia.com/gpu']).toBeUndefined();
  });

  it('catches broken cross-object references', () => {
    const manifests = documents(kustomize('prod'));
    const broken = structuredClone(manifests);
    const vs = broken.find((m) => m.kind === 'VirtualService' && m.metadata?.name === 'worker-seed-classifier');
    const http = (vs?.spec as { http: Array<{ route: Array<{ destination: { subset: string }; weight?: number }> }> }).http;
    const split = http.at(-1);
    if (split?.route[0]) {
      split.route[0].destination.subset = 'v9';
      split.route[0].weight = 50;
    }
    const svc = broken.find((m) => m.kind === 'Service' && m.metadata?.name === 'switchyard-gateway');
    (svc?.spec as { selector: Record<string, string> }).selector = { app: 'nothing' };
    const gpu = broken.find((m) => m.kind === 'Deployment' && m.metadata?.name === 'worker-wide-mlp-v1');
    delete (gpu?.spec as { template: { spec: { tolerations?: unknown } } }).template.spec.tolerations;
    const problems = semanticProblems(broken);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/routes to subset 'v9'/),
      expect.stringMatching(/weights 50\+10 must be whole numbers summing to 100/),
      expect.stringMatching(/Service\/switchyard-gateway: selector .* matches no Deployment/),
      expect.stringMatching(/worker-wide-mlp-v1: runs on the GPU pool but does not tolerate/),
    ]));
  });

  it('validates field types and enums of every object through its typed model', () => {
    expect(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two' as unknown as number, selector: {}, template: {} } }).validate()).toThrowError(/replicas must be integer/);
    expect(() => new PeerAuthentication({ metadata: { name: 'x' }, spec: { mtls: { mode: 'STRICTEST' as 'STRICT' } } }).validate()).toThrowError(/mode/);
  });
});

describe('mesh rendering options', () => {
  it('adds a RequestAuthentication for the gateway when the config verifies JWTs, valid against its schema', async () => {
    const { parseFleetConfig } = await import('@switchyard/fleet-config/load');
    const { readFile: read } = await import('node:fs/promises');
    const { Ajv } = await import('ajv');
    const { parse } = await import('yaml');
    const raw = parse(await read(EXAMPLE, 'utf8')) as Record<string, unknown> & { auth: Record<string, unknown> };
    raw.auth = { ...raw.auth, jwt: { issuer: 'https://auth.example.com/', audience: 'switchyard', jwks_uri: 'https://auth.example.com/jwks.json' } };
    const files = renderFleet(parseFleetConfig(raw, 'with-jwt'));
    const manifests = documents(files.get('base/istio.yaml') ?? '');
    const requestAuth = manifests.find((m) => m.kind === 'RequestAuthentication');
    expect(requestAuth?.spec).toEqual({
      selector: { matchLabels: { app: 'switchyard-gateway' } },
      jwtRules: [{ issuer: 'https://auth.example.com/', jwksUri: 'https://auth.example.com/jwks.json', forwardOriginalToken: true, audiences: ['switchyard'] }],
    });
    const schema = JSON.parse(await read(`${MESH}schemas/RequestAuthentication.json`, 'utf8')) as object;
    expect(new Ajv({ strict: false }).validate(schema, requestAuth)).toBe(true);
    expect(semanticProblems(manifests.concat(documents(files.get('base/identity.yaml') ?? ''), documents(files.get('base/gateway.yaml') ?? ''), documents(files.get('base/workers.yaml') ?? '')))).toEqual([]);
  });
});
