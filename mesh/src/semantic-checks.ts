/**
 * Checks no schema can make across objects. Routing: VirtualService subsets
 * exist, weights are whole and sum to 100, worker routes never split, each
 * Service selects exactly one Deployment's pods, the ConfigMap's upstreams
 * name Services whose pods serve that model version. References: probes use
 * served paths and declared ports, service accounts and principals exist,
 * mounted ConfigMaps/Secrets and their keys exist (or the operator provides
 * them, or they are optional and nothing needs them), a mounted config
 * carries its checksum. Operations: HPAs own replicas, PDBs leave room to
 * drain, selectors hold no version, GPU pods request and tolerate GPUs.
 * Security: Pod Security "restricted", no API tokens, every ALLOW rule names
 * who, a NetworkPolicy for every workload, Istio v1 APIs. Ports: see
 * `port-checks.ts`.
 */
import { parse } from 'yaml';
import { CONFIG_CHECKSUM_ANNOTATION, POOL_LABEL } from './naming.ts';
import { portProblems } from './port-checks.ts';
import { checksumOf } from './render/identity.ts';

/** A parsed manifest. */
export type Manifest = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string>; stringData?: Record<string, string> };

const PROBE_PATHS = new Set(['/v2/health/live', '/v2/health/ready']);
const ISTIO_GROUPS = /^(networking|security|telemetry)\.istio\.io\//;

type Labels = Record<string, string>;
interface Route { destination?: { host?: string; subset?: string }; weight?: number }
interface HttpRoute { route?: Route[] }
interface Probe { httpGet?: { path?: string; port?: number | string }; tcpSocket?: { port?: number | string } }
interface KeyRef { name?: string; key?: string; optional?: boolean }
interface Container {
  name?: string; ports?: Array<{ name?: string; containerPort?: number }>; readinessProbe?: Probe; livenessProbe?: Probe; startupProbe?: Probe;
  resources?: { limits?: Labels }; env?: Array<{ name?: string; value?: string; valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef } }>;
  volumeMounts?: Array<{ name?: string; mountPath?: string }>;
  securityContext?: { allowPrivilegeEscalation?: boolean; privileged?: boolean; runAsNonRoot?: boolean; capabilities?: { drop?: string[]; add?: string[] }; seccompProfile?: { type?: string } };
}
interface Volume { name?: string; configMap?: { name?: string; optional?: boolean }; secret?: { secretName?: string; optional?: boolean }; persistentVolumeClaim?: { claimName?: string }; hostPath?: unknown }
interface PodSpec {
  containers?: Container[]; nodeSelector?: Labels; tolerations?: Array<{ key?: string }>; serviceAccountName?: string; automountServiceAccountToken?: boolean;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchExpressions?: Array<{ key?: string; operator?: string; values?: string[] }> }> } } };
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } }; hostNetwork?: boolean; volumes?: Volume[];
}
interface DeploymentSpec { replicas?: number; selector?: { matchLabels?: Labels }; template?: { metadata?: { labels?: Labels; annotations?: Labels }; spec?: PodSpec } }

const name = (m: Manifest) => `${m.kind}/${m.metadata?.name}`;
const matches = (selector: Labels, labels: Labels = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const deploymentSpec = (d: Manifest) => (d.spec ?? {}) as DeploymentSpec;
const podOf = (d: Manifest) => deploymentSpec(d).template?.spec ?? {};

/** The pool a pod is placed on, by node selector or required node affinity. */
function poolOf(pod: PodSpec): string | undefined {
  const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const expression = terms.flatMap((t) => t.matchExpressions ?? []).find((e) => e.key === POOL_LABEL && e.operator === 'In');
  return pod.nodeSelector?.[POOL_LABEL] ?? (expression?.values?.length === 1 ? expression.values[0] : undefined);
}

export interface SemanticCheckOptions {
  /** Objects the operator creates, e.g. `Secret/switchyard-api-keys`, `PersistentVolumeClaim/switchyard-models`. */
  provided?: ReadonlySet<string>;
}

export function semanticProblems(manifests: readonly Manifest[], { provided = new Set() }: SemanticCheckOptions = {}): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const deployments = byKind('Deployment');
  const services = byKind('Service');
  const rendered = new Map(manifests.map((m) => [`${m.kind}/${m.metadata?.name}`, m]));

  for (const m of manifests) {
    if (m.apiVersion && ISTIO_GROUPS.test(m.apiVersion) && !m.apiVersion.endsWith('/v1')) problems.push(`${name(m)}: ${m.apiVersion} is not the current Istio API (v1)`);
  }

  // Routing.
  const subsets = new Map<string, Set<string>>();
  for (const dr of byKind('DestinationRule')) {
    const spec = dr.spec as { host?: string; subsets?: Array<{ name?: string }> };
    subsets.set(spec.host ?? '', new Set((spec.subsets ?? []).map((s) => s.name ?? '')));
  }
  const serviceByHost = (host: string) => services.find((s) => host === s.metadata?.name || host.startsWith(`${s.metadata?.name}.${s.metadata?.namespace}.svc.`));
  const selectorOf = (svc: Manifest) => (svc.spec as { selector?: Labels }).selector ?? {};
  const isWorkerService = (svc: Manifest | undefined) => svc !== undefined && selectorOf(svc).app === 'switchyard-worker';
  for (const vs of byKind('VirtualService')) {
    const hosts = (vs.spec as { hosts?: string[] }).hosts ?? [];
    const workerRoute = hosts.some((h) => isWorkerService(serviceByHost(h)));
    for (const [i, http] of ((vs.spec as { http?: HttpRoute[] }).http ?? []).entries()) {
      const routes = http.route ?? [];
      for (const r of routes) {
        const { host = '', subset } = r.destination ?? {};
        if (subset !== undefined && !subsets.get(host)?.has(subset)) problems.push(`${name(vs)}: http[${i}] routes to subset '${subset}' of ${host}, which no DestinationRule defines`);
      }
      const weights = routes.filter((r) => r.weight !== undefined).map((r) => r.weight ?? 0);
      if (weights.length > 0) {
        const total = weights.reduce((a, b) => a + b, 0);
        if (total !== 100 || weights.some((w) => !Number.isInteger(w))) problems.push(`${name(vs)}: http[${i}] weights ${weights.join('+')} must be whole numbers summing to 100`);
      }
      if (workerRoute && (routes.length !== 1 || weights.length > 0 || routes[0]?.destination?.subset !== undefined || !hosts.includes(routes[0]?.destination?.host ?? ''))) {
        problems.push(`${name(vs)}: http[${i}] re-splits worker traffic (the gateway owns the split: one destination, its own host, no weight or subset)`);
      }
    }
  }

  const selected = (svc: Manifest) => deployments.filter((d) => d.metadata?.namespace === svc.metadata?.namespace && matches(selectorOf(svc), deploymentSpec(d).template?.metadata?.labels));
  for (const svc of services) {
    const hits = selected(svc);
    if (hits.length === 0) problems.push(`${name(svc)}: selector ${JSON.stringify(selectorOf(svc))} matches no Deployment's pods`);
    if (hits.length > 1) problems.push(`${name(svc)}: selector ${JSON.stringify(selectorOf(svc))} matches the pods of ${hits.map(name).join(', ')}; a Service selects one workload`);
  }

  for (const cm of byKind('ConfigMap')) {
    const text = cm.data?.['switchyard.yaml'];
    if (text === undefined) continue;
    const fleet = parse(text) as { models?: Record<string, { variants?: Array<{ name: string; version: number; upstreams?: string[] }> }> };
    for (const [model, spec] of Object.entries(fleet.models ?? {})) {
      for (const v of spec.variants ?? []) {
        for (const upstream of v.upstreams ?? []) {
          const svc = serviceByHost(new URL(upstream).hostname);
          const env = (d: Manifest, key: string) => podOf(d).containers?.[0]?.env?.find((e) => e.name === key)?.value;
          const serves = svc && selected(svc).every((d) => env(d, 'SWITCHYARD_MODEL') === model && (env(d, 'SWITCHYARD_MODEL_VERSIONS') ?? '').split(',').includes(String(v.version)));
          if (!svc) problems.push(`${name(cm)}: upstream ${upstream} of ${model}/${v.name} is no rendered Service`);
          else if (!serves || selected(svc).length === 0) problems.push(`${name(cm)}: upstream ${upstream} of ${model}/${v.name} reaches pods that do not serve ${model} version ${v.version}`);
        }
      }
    }
  }

  // Workloads.
  const accounts = new Set(byKind('ServiceAccount').map((sa) => `${sa.metadata?.namespace}/${sa.metadata?.name}`));
  const namespaces = new Set(manifests.map((m) => m.metadata?.namespace).filter(Boolean));
  const hpaTargets = new Map(byKind('HorizontalPodAutoscaler').map((h) => {
    const spec = h.spec as { scaleTargetRef?: { name?: string }; minReplicas?: number; maxReplicas?: number };
    if ((spec.minReplicas ?? 1) > (spec.maxReplicas ?? 0)) problems.push(`${name(h)}: minReplicas ${spec.minReplicas} exceeds maxReplicas ${spec.maxReplicas}`);
    return [spec.scaleTargetRef?.name ?? '', spec.minReplicas ?? 1];
  }));
  const networkPolicies = byKind('NetworkPolicy').map((n) => (n.spec as { podSelector?: { matchLabels?: Labels } }).podSelector?.matchLabels ?? {});
  for (const d of deployments) {
    const spec = deploymentSpec(d);
    const pod = podOf(d);
    const labels = spec.template?.metadata?.labels ?? {};
    const ns = d.metadata?.namespace;
    if (spec.selector?.matchLabels && 'version' in spec.selector.matchLabels) problems.push(`${name(d)}: selector holds the version; selectors are immutable, so a new version could not be applied`);
    const minReplicas = hpaTargets.get(d.metadata?.name ?? '');
    if (minReplicas !== undefined && spec.replicas !== undefined) problems.push(`${name(d)}: sets replicas (${spec.replicas}) while an HPA owns the count; every apply would reset it`);
    for (const pdb of byKind('PodDisruptionBudget').filter((p) => matches((p.spec as { selector?: { matchLabels?: Labels } }).selector?.matchLabels ?? {}, labels))) {
      const minAvailable = (pdb.spec as { minAvailable?: number | string }).minAvailable;
      const count = minReplicas ?? spec.replicas ?? 1;
      if (typeof minAvailable === 'number' && minAvailable >= count) problems.push(`${name(pdb)}: minAvailable ${minAvailable} with ${count} replica(s) of ${name(d)} blocks every node drain`);
    }
    if (!networkPolicies.some((sel) => Object.keys(sel).length > 0 && matches(sel, labels))) problems.push(`${name(d)}: no NetworkPolicy selects its pods`);

    // Pod Security "restricted" and tokens.
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${name(d)}: pod does not set runAsNonRoot`);
    if (pod.hostNetwork) problems.push(`${name(d)}: uses the host network`);
    if (pod.automountServiceAccountToken !== false) problems.push(`${name(d)}: mounts a service-account token it does not need`);
    for (const v of pod.volumes ?? []) if (v.hostPath !== undefined) problems.push(`${name(d)}: mounts hostPath volume ${v.name}`);
    for (const c of pod.containers ?? []) {
      const sc = c.securityContext ?? {};
      const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${name(d)}: container ${c.name} has no RuntimeDefault seccomp profile`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${name(d)}: container ${c.name} allows privilege escalation`);
      if (sc.privileged) problems.push(`${name(d)}: container ${c.name} is privileged`);
      if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${name(d)}: container ${c.name} does not drop ALL capabilities`);
      if ((sc.capabilities?.add ?? []).some((cap) => cap !== 'NET_BIND_SERVICE')) problems.push(`${name(d)}: container ${c.name} adds capabilities beyond NET_BIND_SERVICE`);
    }

    // Probes.
    for (const c of pod.containers ?? []) {
      const ports = new Set<number | string>((c.ports ?? []).flatMap((p) => [p.containerPort ?? -1, p.name ?? '']));
      for (const [kind, probe] of [['readiness', c.readinessProbe], ['liveness', c.livenessProbe], ['startup', c.startupProbe]] as const) {
        const path = probe?.httpGet?.path;
        if (path !== undefined && !PROBE_PATHS.has(path)) problems.push(`${name(d)}: ${kind} probe path ${path} is not served (${[...PROBE_PATHS].join(', ')})`);
        const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
        if (port !== undefined && !ports.has(port)) problems.push(`${name(d)}: ${kind} probe port ${port} is not a port of container ${c.name}`);
      }
    }

    // Pools.
    const gpu = poolOf(pod) === 'gpu';
    const requestsGpu = (pod.containers ?? []).some((c) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined);
    const tolerates = (pod.tolerations ?? []).some((t) => t.key === 'nvidia.com/gpu');
    if (gpu && !requestsGpu) problems.push(`${name(d)}: runs on the GPU pool but requests no nvidia.com/gpu`);
    if (gpu && !tolerates) problems.push(`${name(d)}: runs on the GPU pool but does not tolerate the nvidia.com/gpu taint`);
    if (!gpu && requestsGpu) problems.push(`${name(d)}: requests nvidia.com/gpu outside the GPU pool`);
    if (pod.serviceAccountName && !accounts.has(`${ns}/${pod.serviceAccountName}`)) problems.push(`${name(d)}: service account ${pod.serviceAccountName} is not rendered`);

    problems.push(...referenceProblems(d, pod, spec.template?.metadata?.annotations ?? {}, rendered, provided));
  }

  for (const ap of byKind('AuthorizationPolicy')) {
    const spec = ap.spec as { action?: string; rules?: Array<{ from?: Array<{ source?: { principals?: string[] } }> }> };
    for (const [i, rule] of (spec.rules ?? []).entries()) {
      if ((spec.action ?? 'ALLOW') === 'ALLOW' && (rule.from ?? []).length === 0) problems.push(`${name(ap)}: rules[${i}] allows every caller (no from)`);
    }
    for (const principal of (spec.rules ?? []).flatMap((r) => r.from ?? []).flatMap((f) => f.source?.principals ?? [])) {
      const [, ns, sa] = /\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal) ?? [];
      if (ns === undefined || (namespaces.has(ns) && !accounts.has(`${ns}/${sa}`))) problems.push(`${name(ap)}: principal ${principal} is no rendered ServiceAccount`);
    }
  }
  problems.push(...portProblems(manifests));
  return problems;
}

/** Mounted and referenced ConfigMaps/Secrets (and their keys) exist, or are provided, or are optional and unused. */
function referenceProblems(d: Manifest, pod: PodSpec, annotations: Labels, rendered: Map<string, Manifest>, provided: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const exists = (ref: string) => rendered.has(ref) || provided.has(ref);
  const containers = pod.containers ?? [];
  for (const v of pod.volumes ?? []) {
    const ref = v.configMap ? `ConfigMap/${v.configMap.name}` : v.secret ? `Secret/${v.secret.secretName}` : v.persistentVolumeClaim ? `PersistentVolumeClaim/${v.persistentVolumeClaim.claimName}` : undefined;
    if (ref === undefined) continue;
    const optional = v.configMap?.optional ?? v.secret?.optional ?? false;
    const mounts = containers.flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.name === v.name).map((m) => ({ c, path: m.mountPath ?? '' })));
    const filesUsed = mounts.flatMap(({ c, path }) => (c.env ?? []).filter((e) => e.value?.startsWith(`${path}/`)).map((e) => ({ env: e.name, file: (e.value ?? '').slice(path.length + 1) })));
    if (!exists(ref) && !optional) problems.push(`${name(d)}: volume ${v.name} needs ${ref}, which is neither rendered nor provided by the operator`);
    if (optional && filesUsed.length > 0) problems.push(`${name(d)}: volume ${v.name} (${ref}) is optional, but ${filesUsed.map((f) => f.env).join(', ')} points into it`);
    const object = rendered.get(ref);
    if (object?.kind === 'ConfigMap') {
      for (const { env, file } of filesUsed) if (!(file in (object.data ?? {}))) problems.push(`${name(d)}: ${env} names ${file}, which ${ref} does not hold`);
      const checksum = annotations[CONFIG_CHECKSUM_ANNOTATION];
      if (checksum !== checksumOf(object.data ?? {})) problems.push(`${name(d)}: ${CONFIG_CHECKSUM_ANNOTATION} does not match the mounted ${ref}, so a changed config would not roll the pods`);
    }
  }
  for (const c of containers) {
    for (const e of c.env ?? []) {
      const keyRef = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      if (!keyRef) continue;
      const ref = `${e.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap'}/${keyRef.name}`;
      const object = rendered.get(ref);
      if (!exists(ref) && !keyRef.optional) problems.push(`${name(d)}: ${e.name} needs ${ref}, which is neither rendered nor provided by the operator`);
      if (object && !((keyRef.key ?? '') in { ...object.data, ...object.stringData })) problems.push(`${name(d)}: ${e.name} needs key ${keyRef.key} of ${ref}, which it does not hold`);
    }
  }
  return problems;
}
