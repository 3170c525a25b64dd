/**
 * Checks no schema can make across objects: VirtualService subsets exist
 * in their DestinationRule, route weights are whole and sum to 100, Service
 * selectors match Deployments, probes use paths the services serve, GPU
 * workloads request GPUs and tolerate the GPU taint (and only they do), and
 * AuthorizationPolicy principals name an existing ServiceAccount.
 */
import { POOL_LABEL } from './naming.ts';

/** A parsed manifest. */
export type Manifest = { kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> }; spec?: Record<string, unknown> };

const PROBE_PATHS = new Set(['/v2/health/live', '/v2/health/ready']);

interface Route { destination?: { host?: string; subset?: string }; weight?: number }
interface HttpRoute { route?: Route[] }
interface Container { name?: string; readinessProbe?: Probe; livenessProbe?: Probe; startupProbe?: Probe; resources?: { limits?: Record<string, string> } }
interface Probe { httpGet?: { path?: string } }
interface PodSpec { containers?: Container[]; nodeSelector?: Record<string, string>; tolerations?: Array<{ key?: string }>; serviceAccountName?: string }

const name = (m: Manifest) => `${m.kind}/${m.metadata?.name}`;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

export function semanticProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);

  const subsets = new Map<string, Set<string>>();
  for (const dr of byKind('DestinationRule')) {
    const spec = dr.spec as { host?: string; subsets?: Array<{ name?: string }> };
    subsets.set(spec.host ?? '', new Set((spec.subsets ?? []).map((s) => s.name ?? '')));
  }
  for (const vs of byKind('VirtualService')) {
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
    }
  }

  const deployments = byKind('Deployment');
  for (const svc of byKind('Service')) {
    const selector = (svc.spec as { selector?: Record<string, string> }).selector ?? {};
    const hit = deployments.some((d) => d.metadata?.namespace === svc.metadata?.namespace && matches(selector, (d.spec as { template?: { metadata?: { labels?: Record<string, string> } } }).template?.metadata?.labels));
    if (!hit) problems.push(`${name(svc)}: selector ${JSON.stringify(selector)} matches no Deployment's pods`);
  }

  const accounts = new Set(byKind('ServiceAccount').map((sa) => `cluster.local/ns/${sa.metadata?.namespace}/sa/${sa.metadata?.name}`));
  for (const d of deployments) {
    const pod = ((d.spec as { template?: { spec?: PodSpec } }).template?.spec ?? {});
    for (const c of pod.containers ?? []) {
      for (const [kind, probe] of [['readiness', c.readinessProbe], ['liveness', c.livenessProbe], ['startup', c.startupProbe]] as const) {
        const path = probe?.httpGet?.path;
        if (path !== undefined && !PROBE_PATHS.has(path)) problems.push(`${name(d)}: ${kind} probe path ${path} is not served (${[...PROBE_PATHS].join(', ')})`);
      }
    }
    const gpu = pod.nodeSelector?.[POOL_LABEL] === 'gpu';
    const requestsGpu = (pod.containers ?? []).some((c) => c.resources?.limits?.['nvidia.com/gpu'] !== undefined);
    const tolerates = (pod.tolerations ?? []).some((t) => t.key === 'nvidia.com/gpu');
    if (gpu && !requestsGpu) problems.push(`${name(d)}: runs on the GPU pool but requests no nvidia.com/gpu`);
    if (gpu && !tolerates) problems.push(`${name(d)}: runs on the GPU pool but does not tolerate the nvidia.com/gpu taint`);
    if (!gpu && requestsGpu) problems.push(`${name(d)}: requests nvidia.com/gpu outside the GPU pool`);
    if (pod.serviceAccountName && !accounts.has(`cluster.local/ns/${d.metadata?.namespace}/sa/${pod.serviceAccountName}`)) problems.push(`${name(d)}: service account ${pod.serviceAccountName} is not rendered`);
  }

  for (const ap of byKind('AuthorizationPolicy')) {
    const rules = (ap.spec as { rules?: Array<{ from?: Array<{ source?: { principals?: string[] } }> }> }).rules ?? [];
    for (const principal of rules.flatMap((r) => r.from ?? []).flatMap((f) => f.source?.principals ?? [])) {
      if (!accounts.has(principal)) problems.push(`${name(ap)}: principal ${principal} is no rendered ServiceAccount`);
    }
  }
  return problems;
}
