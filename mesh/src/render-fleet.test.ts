import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { edgeHostArgs } from '@switchyard/fleet-config/edge-host';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { OPERATOR_PROVIDED, renderFleet } from './render-fleet.ts';
import { semanticProblems, type Manifest } from './semantic-checks.ts';

const MESH = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../switchyard.yaml', import.meta.url));
const documents = (text: string) => parseAllDocuments(text).map((d) => d.toJSON() as Manifest).filter(Boolean);

const rendered = new Map<string, string>();
/** `kubectl kustomize` of an overlay, once per overlay (the files do not change during the run). */
function kustomize(overlay: string): string {
  const cached = rendered.get(overlay);
  if (cached !== undefined) return cached;
  const result = spawnSync('kubectl', ['kustomize', `${MESH}overlays/${overlay}`], { encoding: 'utf8' });
  if (result.error) throw new Error(`kubectl is needed to render overlays offline: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${result.stderr}`);
  rendered.set(overlay, result.stdout);
  return result.stdout;
}

/** What the operator provides per overlay: the dev overlay generates its own Redis Secret. */
const providedFor = (overlay: string) => new Set([...OPERATOR_PROVIDED].filter((ref) => overlay !== 'dev' || ref !== 'Secret/switchyard-redis'));
const find = (manifests: Manifest[], kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata?.name === name);
type PodTemplate = { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, unknown> & { containers: Array<Record<string, unknown> & { env: Array<{ name: string; value?: string }> }> } }; replicas?: number; selector: { matchLabels: Record<string, string> } };
const specOf = <T>(m: Manifest | undefined) => m?.spec as T;

describe('mesh manifests', () => {
  it('are up to date with the renderer and switchyard.yaml (run `npm run mesh -- render`)', async () => {
    const files = renderFleet(await loadFleetConfig(EXAMPLE));
    expect(files.size).toBeGreaterThan(5);
    for (const [file, content] of files) expect(await readFile(`${MESH}${file}`, 'utf8'), file).toBe(content);
  });

  it.each(['dev', 'prod'])('render offline with kubectl kustomize (%s) and pass every cross-object check', (overlay) => {
    const manifests = documents(kustomize(overlay));
    expect(manifests.map((m) => m.kind)).toEqual(expect.arrayContaining(['Deployment', 'Service', 'HorizontalPodAutoscaler', 'VirtualService', 'DestinationRule', 'PeerAuthentication', 'AuthorizationPolicy', 'Telemetry', 'Gateway', 'ConfigMap', 'ServiceAccount', 'NetworkPolicy']));
    expect(semanticProblems(manifests, { provided: providedFor(overlay) })).toEqual([]);
  });

  it('give every variant its own Service, name those Services as the in-cluster upstreams, and never re-split in Istio', () => {
    const manifests = documents(kustomize('prod'));
    const fleet = parse((find(manifests, 'ConfigMap', 'switchyard-config')?.data ?? {})['switchyard.yaml'] ?? '') as { models: Record<string, { variants: Array<{ name: string; upstreams: string[] }>; shadow?: { variant: string } }> };
    expect(fleet.models['seed-classifier']?.variants.map((v) => [v.name, v.upstreams])).toEqual([
      ['v1', ['http://worker-seed-classifier-v1.switchyard.svc.cluster.local:8000']],
      ['v2', ['http://worker-seed-classifier-v2.switchyard.svc.cluster.local:8000']],
    ]);
    // The shadow variant is one of the variants, so shadow copies reach its own Service too.
    expect(fleet.models['seed-classifier']?.shadow?.variant).toBe('v2');
    expect(specOf<{ selector: Record<string, string> }>(find(manifests, 'Service', 'worker-seed-classifier-v2')).selector).toEqual({ app: 'switchyard-worker', model: 'seed-classifier', variant: 'v2' });
    const vs = specOf<{ http: Array<{ route: Array<{ destination: { host: string }; weight?: number }> }> }>(find(manifests, 'VirtualService', 'worker-seed-classifier-v2'));
    expect(vs.http).toHaveLength(1);
    expect(vs.http[0]?.route).toEqual([{ destination: { host: 'worker-seed-classifier-v2.switchyard.svc.cluster.local' } }]);
    expect(manifests.some((m) => m.kind === 'Service' && m.metadata?.name === 'worker-seed-classifier')).toBe(false);
  });

  it('keep edge workers and their routes in the in-cluster config, each at its sidecar\'s loopback address, and no machine paths in it', () => {
    const manifests = documents(kustomize('prod'));
    const text = (find(manifests, 'ConfigMap', 'switchyard-config')?.data ?? {})['switchyard.yaml'] ?? '';
    const fleet = parse(text) as { gateway: { edge_binding_port: number }; edge_workers: Record<string, { module: string; endpoint: string }>; routes: unknown[]; models: Record<string, { edge_worker?: string; variants: Array<{ name: string; edge_worker?: string }> }> };
    expect(fleet.gateway.edge_binding_port).toBe(8091);
    expect(fleet.edge_workers['seed-predict']).toMatchObject({ module: '/etc/switchyard/edge/seed-predict.ts', endpoint: '127.0.0.1:8101' });
    expect(fleet.edge_workers['class-labels']).toMatchObject({ module: '/etc/switchyard/edge/class-labels.ts', endpoint: '127.0.0.1:8100', vars: { LABELS: 'outside,inside' } });
    expect(fleet.routes).toEqual([{ path: '/predict', model: 'seed-classifier', edge_worker: 'seed-predict' }]);
    expect(fleet.models['seed-classifier']?.variants.map((v) => [v.name, v.edge_worker])).toEqual([['v1', undefined], ['v2', 'class-labels']]);
    expect(text).not.toContain(MESH.replace(/mesh\/$/, ''));
  });

  it('run each edge worker as a loopback sidecar of the gateway with the local fleet\'s Deno permissions, its memory limit, a read-only root and no token', async () => {
    const config = await loadFleetConfig(EXAMPLE);
    const manifests = documents(kustomize('prod'));
    const pod = specOf<PodTemplate>(find(manifests, 'Deployment', 'switchyard-gateway')).template.spec as PodTemplate['template']['spec'] & { automountServiceAccountToken: boolean; volumes: Array<{ name: string; configMap?: { name: string; items: Array<{ key: string; path: string }> } }> };
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.containers.map((c) => c.name)).toEqual(['gateway', 'edge-seed-predict', 'edge-class-labels']);
    const configMap = find(manifests, 'ConfigMap', 'switchyard-config')?.data ?? {};
    for (const [name, port] of [['seed-predict', 8101], ['class-labels', 8100]] as const) {
      const spec = config.edge_workers[name];
      if (!spec) throw new Error(`switchyard.yaml has no edge worker ${name}`);
      const sidecar = pod.containers.find((c) => c.name === `edge-${name}`) as unknown as Record<string, unknown> & { args: string[]; resources: { limits: Record<string, string>; requests: Record<string, string> }; securityContext: Record<string, unknown>; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> };
      expect(sidecar.image).toBe('registry.example.com/switchyard/edge-worker:0.1.0');
      // The same command line the gateway builds for a process it starts itself (only the listen port differs).
      expect(sidecar.args).toEqual(edgeHostArgs({
        listen: `127.0.0.1:${port}`, binding: '127.0.0.1:8091', spec, entry: `/etc/switchyard/edge/${name}.entry.ts`,
        settings: { port, binding: 'http://127.0.0.1:8091', vars: spec.vars, tracing: true },
      }));
      expect(sidecar.args).toContain(`--allow-net=127.0.0.1:${port},127.0.0.1:8091`);
      expect(sidecar.args).toContain(`--v8-flags=--max-old-space-size=${spec.memory_mb}`);
      expect(sidecar.args.some((a) => /^--allow-(read|write|env|run|ffi|sys|all)|^-A$/.test(a))).toBe(false);
      expect(sidecar.ports).toBeUndefined();
      expect(sidecar.resources.limits.memory).toBe(`${spec.memory_mb + 96}Mi`);
      expect(sidecar.resources.requests.memory).toBe(sidecar.resources.limits.memory);
      expect(sidecar.securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(JSON.stringify(sidecar[probe]), probe).toContain(`/dev/tcp/127.0.0.1/${port}`);
      expect(sidecar.volumeMounts).toContainEqual({ name: `edge-${name}`, mountPath: '/etc/switchyard/edge', readOnly: true });
      const volume = pod.volumes.find((v) => v.name === `edge-${name}`);
      expect(volume?.configMap).toEqual({ name: 'switchyard-config', items: [{ key: `edge-${name}.ts`, path: `${name}.ts` }, { key: `edge-${name}.entry.ts`, path: `${name}.entry.ts` }] });
      expect(configMap[`edge-${name}.ts`]).toBe(await readFile(spec.module, 'utf8'));
      expect(configMap[`edge-${name}.entry.ts`]).toBe(`import worker from "./${name}.ts";\nimport { serveEdgeWorker } from "/opt/switchyard/edge/host/deno-host.ts";\nawait serveEdgeWorker(worker);\n`);
    }
  });

  it('serve TLS at the ingress for the configured hosts and redirect HTTP to HTTPS', () => {
    const manifests = documents(kustomize('prod'));
    const servers = specOf<{ servers: Array<{ port: { number: number }; hosts: string[]; tls: Record<string, unknown> }> }>(find(manifests, 'Gateway', 'switchyard-ingress')).servers;
    expect(servers).toEqual([
      { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['switchyard.example.com'], tls: { mode: 'SIMPLE', credentialName: 'switchyard-tls', minProtocolVersion: 'TLSV1_2' } },
      { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['switchyard.example.com'], tls: { httpsRedirect: true } },
    ]);
    expect(specOf<{ hosts: string[] }>(find(manifests, 'VirtualService', 'switchyard-ingress')).hosts).toEqual(['switchyard.example.com']);
  });

  it('let HPAs own replica counts, keep selectors free of the version, and drain through the sidecar', () => {
    const manifests = documents(kustomize('prod'));
    for (const d of manifests.filter((m) => m.kind === 'Deployment')) {
      const spec = specOf<PodTemplate>(d);
      expect(spec.replicas, d.metadata?.name).toBeUndefined();
      expect(Object.keys(spec.selector.matchLabels)).not.toContain('version');
      expect(JSON.parse(spec.template.metadata.annotations['proxy.istio.io/config'] ?? '{}')).toEqual({ holdApplicationUntilProxyStarts: true, terminationDrainDuration: '40s' });
      expect(spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(40);
    }
    expect(specOf<PodTemplate>(find(manifests, 'Deployment', 'worker-seed-classifier-v2')).template.metadata.labels.version).toBe('2');
  });

  it('put GPU variants on the GPU pool with a PriorityClass and queue-depth scaling in prod, and on CPU in dev', () => {
    const wide = (overlay: string) => specOf<PodTemplate>(find(documents(kustomize(overlay)), 'Deployment', 'worker-wide-mlp-v1')).template.spec as { affinity: unknown; priorityClassName?: string; containers: Array<{ image: string; resources: { limits: Record<string, string> }; env: Array<{ name: string; value: string }> }> };
    const pool = (values: string[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'switchyard.dev/pool', operator: 'In', values }] }] } } });
    expect(wide('prod').affinity).toEqual(pool(['gpu']));
    expect(wide('prod').priorityClassName).toBe('switchyard-gpu-inference');
    expect(wide('prod').containers[0]?.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(wide('dev').affinity).toEqual(pool(['cpu']));
    expect(wide('dev').priorityClassName).toBeUndefined();
    expect(wide('dev').containers[0]?.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(wide('dev').containers[0]?.env.find((e) => e.name === 'SWITCHYARD_POOL')?.value).toBe('cpu');
    const hpa = (overlay: string) => specOf<{ metrics: Array<{ type: string }> }>(find(documents(kustomize(overlay)), 'HorizontalPodAutoscaler', 'worker-wide-mlp-v1')).metrics[0]?.type;
    expect([hpa('prod'), hpa('dev')]).toEqual(['Pods', 'Resource']);
  });

  it('run Redis in the dev overlay with its URL in a generated Secret, and expect it from the operator in prod', () => {
    const dev = documents(kustomize('dev'));
    expect(find(dev, 'Deployment', 'switchyard-redis')).toBeDefined();
    const secret = find(dev, 'Secret', 'switchyard-redis') as Manifest & { data: Record<string, string> };
    expect(Buffer.from(secret.data.url ?? '', 'base64').toString()).toBe('redis://switchyard-redis.switchyard.svc.cluster.local:6379');
    expect(find(documents(kustomize('prod')), 'Secret', 'switchyard-redis')).toBeUndefined();
  });

  it('catch broken routing, references, operations and security', () => {
    const manifests = documents(kustomize('prod'));
    const broken = structuredClone(manifests);
    const vs = find(broken, 'VirtualService', 'worker-seed-classifier-v1');
    specOf<{ http: Array<{ route: unknown[] }> }>(vs).http[0]?.route.push({ destination: { host: 'worker-seed-classifier-v2.switchyard.svc.cluster.local' }, weight: 10 });
    specOf<{ selector: Record<string, string> }>(find(broken, 'Service', 'worker-seed-classifier-v2')).selector = { app: 'switchyard-worker', model: 'seed-classifier' };
    const cm = find(broken, 'ConfigMap', 'switchyard-config') as Manifest & { data: Record<string, string> };
    cm.data['switchyard.yaml'] = (cm.data['switchyard.yaml'] ?? '').replace('worker-wide-mlp-v1.', 'worker-wide-mlp.');
    const gateway = specOf<PodTemplate>(find(broken, 'Deployment', 'switchyard-gateway'));
    gateway.replicas = 3;
    gateway.template.spec.automountServiceAccountToken = true;
    (gateway.template.spec.volumes as Array<{ name: string; secret?: { optional?: boolean } }>).find((v) => v.name === 'api-keys')!.secret!.optional = true;
    (gateway.template.spec.containers[0] as unknown as { readinessProbe: { httpGet: { port: number } } }).readinessProbe.httpGet.port = 9999;
    const worker = specOf<PodTemplate>(find(broken, 'Deployment', 'worker-seed-classifier-v1'));
    worker.selector.matchLabels.version = '1';
    delete (worker.template.spec.containers[0] as unknown as { securityContext: { capabilities?: unknown } }).securityContext.capabilities;
    const gpu = specOf<PodTemplate>(find(broken, 'Deployment', 'worker-wide-mlp-v1'));
    delete gpu.template.spec.tolerations;
    const ap = find(broken, 'AuthorizationPolicy', 'workers-from-gateway');
    specOf<{ rules: unknown[] }>(ap).rules.push({ to: [{ operation: { paths: ['/metrics'] } }] });
    const withoutPolicy = broken.filter((m) => !(m.kind === 'NetworkPolicy' && m.metadata?.name === 'worker-seed-classifier-v2'));
    const problems = semanticProblems(withoutPolicy, { provided: OPERATOR_PROVIDED });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/VirtualService\/worker-seed-classifier-v1: http\[0\] weights 10 must be whole numbers summing to 100/),
      expect.stringMatching(/VirtualService\/worker-seed-classifier-v1: http\[0\] re-splits worker traffic/),
      expect.stringMatching(/Service\/worker-seed-classifier-v2: selector .* matches the pods of Deployment\/worker-seed-classifier-v1, Deployment\/worker-seed-classifier-v2/),
      expect.stringMatching(/ConfigMap\/switchyard-config: upstream http:\/\/worker-wide-mlp\.switchyard\.svc\.cluster\.local:8000 of wide-mlp\/v1 is no rendered Service/),
      expect.stringMatching(/Deployment\/switchyard-gateway: sets replicas \(3\) while an HPA owns the count/),
      expect.stringMatching(/Deployment\/switchyard-gateway: mounts a service-account token/),
      expect.stringMatching(/Deployment\/switchyard-gateway: volume api-keys \(Secret\/switchyard-api-keys\) is optional, but SWITCHYARD_API_KEYS_FILE points into it/),
      expect.stringMatching(/Deployment\/switchyard-gateway: readiness probe port 9999 is not a port/),
      expect.stringMatching(/Deployment\/worker-seed-classifier-v1: selector holds the version/),
      expect.stringMatching(/Deployment\/worker-seed-classifier-v1: container worker does not drop ALL capabilities/),
      expect.stringMatching(/Deployment\/worker-wide-mlp-v1: runs on the GPU pool but does not tolerate/),
      expect.stringMatching(/AuthorizationPolicy\/workers-from-gateway: rules\[2\] allows every caller/),
      expect.stringMatching(/Deployment\/worker-seed-classifier-v2: no NetworkPolicy selects its pods/),
    ]));
  });

  it('expose gRPC on the gateway (gateway.grpc_port) and every worker as HTTP/2 the mesh routes, admitted by the policies, probes unchanged', () => {
    const manifests = documents(kustomize('prod'));
    type Ports = { ports: Array<{ name: string; port: number; targetPort: number; appProtocol: string }> };
    type Container = { ports: Array<{ name: string; containerPort: number }>; env: Array<{ name: string; value?: string }>; readinessProbe: unknown; livenessProbe: unknown };
    const container = (m: Manifest | undefined) => specOf<PodTemplate>(m).template.spec.containers[0] as unknown as Container;

    const gateway = container(find(manifests, 'Deployment', 'switchyard-gateway'));
    expect(gateway.ports).toContainEqual({ name: 'grpc', containerPort: 8001 });
    expect(gateway.env).toContainEqual({ name: 'GRPC_PORT', value: '8001' });
    expect(gateway.readinessProbe).toEqual({ httpGet: { path: '/v2/health/ready', port: 8080 }, periodSeconds: 5 });
    expect(specOf<Ports>(find(manifests, 'Service', 'switchyard-gateway')).ports).toEqual([
      { name: 'http', port: 80, targetPort: 8080, appProtocol: 'http' },
      { name: 'grpc', port: 8001, targetPort: 8001, appProtocol: 'grpc' },
    ]);
    const workers = manifests.filter((m) => m.kind === 'Deployment' && m.metadata?.name?.startsWith('worker-'));
    expect(workers.length).toBeGreaterThanOrEqual(3);
    for (const worker of workers) {
      const c = container(worker);
      expect(c.ports, worker.metadata?.name).toEqual([{ name: 'http', containerPort: 8000 }, { name: 'grpc', containerPort: 8001 }]);
      expect(c.env).toContainEqual({ name: 'GRPC_PORT', value: '8001' });
      expect(c.readinessProbe).toEqual({ httpGet: { path: '/v2/health/ready', port: 8000 }, periodSeconds: 5 });
      expect(specOf<Ports>(find(manifests, 'Service', worker.metadata?.name ?? '')).ports).toContainEqual({ name: 'grpc', port: 8001, targetPort: 8001, appProtocol: 'grpc' });
      const policy = specOf<{ ingress: Array<{ ports: Array<{ port: number }> }> }>(find(manifests, 'NetworkPolicy', worker.metadata?.name ?? ''));
      expect(policy.ingress[0]?.ports.map((p) => p.port)).toEqual([8000, 8001]);
    }
    const ingressPolicy = specOf<{ ingress: Array<{ ports: Array<{ port: number }> }> }>(find(manifests, 'NetworkPolicy', 'switchyard-gateway'));
    expect(ingressPolicy.ingress[0]?.ports.map((p) => p.port)).toEqual([8080, 8001]);
    const fromIngress = specOf<{ rules: Array<{ to?: Array<{ operation: { ports?: string[] } }> }> }>(find(manifests, 'AuthorizationPolicy', 'gateway-from-ingress')).rules[0];
    expect(fromIngress?.to?.[0]?.operation.ports).toEqual(['8080', '8001']);
    const ingress = specOf<{ http: Array<{ name: string; match: unknown[]; route: Array<{ destination: { port: { number: number } } }> }> }>(find(manifests, 'VirtualService', 'switchyard-ingress'));
    expect(ingress.http.find((r) => r.name === 'grpc')).toMatchObject({
      match: [{ uri: { prefix: '/inference.GRPCInferenceService/' } }],
      route: [{ destination: { host: 'switchyard-gateway.switchyard.svc.cluster.local', port: { number: 8001 } } }],
    });
  });

  it('catch a gRPC port Istio would not route as gRPC, one no NetworkPolicy admits, and a route to a port the Service lacks', () => {
    const broken = structuredClone(documents(kustomize('prod')));
    const workerPorts = specOf<{ ports: Array<{ name: string; appProtocol?: string }> }>(find(broken, 'Service', 'worker-seed-classifier-v1')).ports;
    delete workerPorts.find((p) => p.name === 'grpc')!.appProtocol;
    const gatewayPolicy = specOf<{ ingress: Array<{ ports: Array<{ port: number }> }> }>(find(broken, 'NetworkPolicy', 'switchyard-gateway'));
    gatewayPolicy.ingress[0]!.ports = gatewayPolicy.ingress[0]!.ports.filter((p) => p.port !== 8001);
    const ingress = specOf<{ http: Array<{ name: string; route: Array<{ destination: { port: { number: number } } }> }> }>(find(broken, 'VirtualService', 'switchyard-ingress'));
    ingress.http.find((r) => r.name === 'grpc')!.route[0]!.destination.port.number = 9001;
    const workerService = specOf<{ ports: Array<{ name: string; targetPort: number }> }>(find(broken, 'Service', 'worker-wide-mlp-v1'));
    workerService.ports.find((p) => p.name === 'grpc')!.targetPort = 8002;
    expect(semanticProblems(broken, { provided: OPERATOR_PROVIDED })).toEqual([
      'Service/switchyard-gateway: port grpc (8001) is admitted by no NetworkPolicy of Deployment/switchyard-gateway\'s pods',
      'Service/worker-seed-classifier-v1: port grpc must be named grpc or grpc-… and declare appProtocol grpc together (name grpc, appProtocol none)',
      'Service/worker-seed-classifier-v1: port grpc reaches the gRPC port of Deployment/worker-seed-classifier-v1 without appProtocol grpc',
      'Service/worker-wide-mlp-v1: port grpc targets 8002, which no container of Deployment/worker-wide-mlp-v1 declares',
      'VirtualService/switchyard-ingress: http[1] routes to port 9001 of Service/switchyard-gateway, which exposes 80, 8001',
    ]);
  });

  it('catch a config change that did not roll the gateway, a missing Secret key and an old Istio API', () => {
    const manifests = documents(kustomize('dev'));
    const broken = structuredClone(manifests);
    const cm = find(broken, 'ConfigMap', 'switchyard-config') as Manifest & { data: Record<string, string> };
    cm.data['switchyard.yaml'] += '# edited\n';
    const secret = find(broken, 'Secret', 'switchyard-redis') as Manifest & { data: Record<string, string> };
    secret.data = { uri: secret.data.url ?? '' };
    const peer = find(broken, 'PeerAuthentication', 'default');
    if (peer) peer.apiVersion = 'security.istio.io/v1beta1';
    expect(semanticProblems(broken, { provided: providedFor('dev') })).toEqual(expect.arrayContaining([
      expect.stringMatching(/Deployment\/switchyard-gateway: switchyard.dev\/config-checksum does not match the mounted ConfigMap\/switchyard-config/),
      expect.stringMatching(/Deployment\/switchyard-gateway: REDIS_URL needs key url of Secret\/switchyard-redis/),
      expect.stringMatching(/PeerAuthentication\/default: security.istio.io\/v1beta1 is not the current Istio API/),
    ]));
    expect(semanticProblems(manifests, { provided: new Set() })).toEqual(expect.arrayContaining([
      expect.stringMatching(/volume api-keys needs Secret\/switchyard-api-keys, which is neither rendered nor provided/),
    ]));
  });

  it('validates field types and enums of every object through its typed model', () => {
    expect(() => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'two' as unknown as number, selector: {}, template: {} } }).validate()).toThrowError(/replicas must be integer/);
    expect(() => new PeerAuthentication({ metadata: { name: 'x' }, spec: { mtls: { mode: 'STRICTEST' as 'STRICT' } } }).validate()).toThrowError(/mode/);
  });
});

describe('mesh rendering options', () => {
  async function withConfig(edit: (raw: Record<string, unknown> & { auth: Record<string, unknown> }) => void, overrides: Parameters<typeof renderFleet>[1] = {}) {
    const { parseFleetConfig } = await import('@switchyard/fleet-config/load');
    const raw = parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown> & { auth: Record<string, unknown> };
    edit(raw);
    const config = parseFleetConfig(raw, 'edited');
    for (const spec of Object.values(config.edge_workers)) spec.module = resolve(dirname(EXAMPLE), spec.module);
    const files = renderFleet(config, overrides);
    return ['base/identity.yaml', 'base/gateway.yaml', 'base/workers.yaml', 'base/istio.yaml', 'base/network-policies.yaml'].flatMap((f) => documents(files.get(f) ?? ''));
  }

  const validators = new Map<string, ValidateFunction>();
  async function strictlyValid(manifests: Manifest[]): Promise<string[]> {
    const ajv = new Ajv({ strict: false });
    const errors: string[] = [];
    for (const m of manifests) {
      const kind = m.kind ?? '';
      if (!validators.has(kind)) validators.set(kind, ajv.compile(JSON.parse(await readFile(`${MESH}schemas/${kind}.json`, 'utf8')) as object));
      const validate = validators.get(kind) as ValidateFunction;
      const valid: boolean = validate(m);
      if (!valid) errors.push(`${m.kind}/${m.metadata?.name}: ${ajv.errorsText(validate.errors)}`);
    }
    return errors;
  }

  it('adds a RequestAuthentication for the gateway when the config verifies JWTs, valid against its schema', async () => {
    const manifests = await withConfig((raw) => {
      raw.auth = { ...raw.auth, jwt: { issuer: 'https://auth.example.com/', audience: 'switchyard', jwks_uri: 'https://auth.example.com/jwks.json' } };
    });
    const requestAuth = manifests.find((m) => m.kind === 'RequestAuthentication');
    expect(requestAuth?.spec).toEqual({
      selector: { matchLabels: { app: 'switchyard-gateway' } },
      jwtRules: [{ issuer: 'https://auth.example.com/', jwksUri: 'https://auth.example.com/jwks.json', forwardOriginalToken: true, audiences: ['switchyard'] }],
    });
    expect(await strictlyValid(manifests)).toEqual([]);
    expect(semanticProblems(manifests, { provided: OPERATOR_PROVIDED })).toEqual([]);
  });

  it('renders no gateway gRPC port, route or policy port when the config serves no gRPC, still valid', async () => {
    const manifests = await withConfig((raw) => { delete (raw.gateway as Record<string, unknown>).grpc_port; });
    const gateway = find(manifests, 'Deployment', 'switchyard-gateway');
    expect(JSON.stringify(gateway)).not.toMatch(/grpc|GRPC_PORT|8001/);
    expect(specOf<{ ports: Array<{ name: string }> }>(find(manifests, 'Service', 'switchyard-gateway')).ports.map((p) => p.name)).toEqual(['http']);
    expect(specOf<{ http: Array<{ name: string }> }>(find(manifests, 'VirtualService', 'switchyard-ingress')).http.map((r) => r.name)).toEqual(['rest']);
    // Workers keep their own gRPC port.
    expect(specOf<{ ports: Array<{ name: string }> }>(find(manifests, 'Service', 'worker-seed-classifier-v1')).ports.map((p) => p.name)).toEqual(['http', 'grpc']);
    expect(await strictlyValid(manifests)).toEqual([]);
    expect(semanticProblems(manifests, { provided: OPERATOR_PROVIDED })).toEqual([]);
  });

  it('renders namespace, trust domain and cluster domain from the mesh section and the command line, the Namespace only on request, and a ServiceEntry for an external Redis', async () => {
    const manifests = await withConfig((raw) => {
      raw.mesh = { ...(raw.mesh as object), namespace: 'ml-serving', create_namespace: true, trust_domain: 'prod.example.org', redis: { external_host: 'redis.example.internal' } };
    }, { mesh: { cluster_domain: 'k8s.internal' } });
    expect(new Set(manifests.map((m) => m.metadata?.namespace).filter(Boolean))).toEqual(new Set(['ml-serving']));
    expect(find(manifests, 'Namespace', 'ml-serving')?.metadata?.labels).toEqual({ 'istio-injection': 'enabled', 'pod-security.kubernetes.io/enforce': 'restricted' });
    const fleet = parse((find(manifests, 'ConfigMap', 'switchyard-config')?.data ?? {})['switchyard.yaml'] ?? '') as { models: Record<string, { variants: Array<{ upstreams: string[] }> }> };
    expect(fleet.models['wide-mlp']?.variants[0]?.upstreams).toEqual(['http://worker-wide-mlp-v1.ml-serving.svc.k8s.internal:8000']);
    const rules = specOf<{ rules: Array<{ from: Array<{ source: { principals: string[] } }> }> }>(find(manifests, 'AuthorizationPolicy', 'workers-from-gateway')).rules;
    expect(rules[0]?.from[0]?.source.principals).toEqual(['prod.example.org/ns/ml-serving/sa/switchyard-gateway']);
    expect(specOf<{ hosts: string[]; location: string }>(find(manifests, 'ServiceEntry', 'switchyard-redis-external'))).toMatchObject({ hosts: ['redis.example.internal'], location: 'MESH_EXTERNAL' });
    expect(await strictlyValid(manifests)).toEqual([]);
    expect(semanticProblems(manifests, { provided: OPERATOR_PROVIDED })).toEqual([]);

    const defaults: Manifest[] = await withConfig((raw) => { delete raw.mesh; });
    expect(defaults.filter((m) => m.kind === 'Namespace' || m.kind === 'ServiceEntry')).toEqual([]);
  });

  it('grants a sidecar the hosts its edge worker names, and renders no sidecar and no binding port for a fleet without edge workers', async () => {
    type Sidecars = { template: { spec: { containers: Array<{ name: string; image: string; args?: string[] }>; volumes: Array<{ name: string }> } } };
    const granted = await withConfig((raw) => {
      const workers = raw.edge_workers as Record<string, Record<string, unknown>>;
      workers['seed-predict'] = { ...workers['seed-predict'], allow_net: ['features.example.internal:443'], memory_mb: 200 };
    }, { edgeImage: 'registry.internal/edge:1' });
    const sidecar = specOf<Sidecars>(find(granted, 'Deployment', 'switchyard-gateway')).template.spec.containers.find((c) => c.name === 'edge-seed-predict');
    expect(sidecar?.image).toBe('registry.internal/edge:1');
    expect(sidecar?.args).toEqual(expect.arrayContaining(['--allow-net=127.0.0.1:8101,127.0.0.1:8091,features.example.internal:443', '--v8-flags=--max-old-space-size=200']));
    expect(await strictlyValid(granted)).toEqual([]);
    expect(semanticProblems(granted, { provided: OPERATOR_PROVIDED })).toEqual([]);

    const plain = await withConfig((raw) => {
      delete raw.edge_workers;
      delete raw.routes;
      for (const model of Object.values(raw.models as Record<string, { edge_worker?: string; variants: Array<{ edge_worker?: string }> }>)) {
        delete model.edge_worker;
        for (const variant of model.variants) delete variant.edge_worker;
      }
    });
    const pod = specOf<Sidecars>(find(plain, 'Deployment', 'switchyard-gateway')).template.spec;
    expect(pod.containers.map((c) => c.name)).toEqual(['gateway']);
    expect(pod.volumes.map((v) => v.name)).toEqual(['config', 'api-keys', 'tmp']);
    const fleet = parse((find(plain, 'ConfigMap', 'switchyard-config')?.data ?? {})['switchyard.yaml'] ?? '') as { gateway: { edge_binding_port: number } };
    expect(fleet.gateway.edge_binding_port).toBe(0);
    expect(Object.keys(find(plain, 'ConfigMap', 'switchyard-config')?.data ?? {})).toEqual(['switchyard.yaml']);
  });
});
