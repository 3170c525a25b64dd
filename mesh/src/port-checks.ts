/**
 * Cross-object checks of ports: each Service port reaches a port its pods'
 * containers declare; a gRPC port is declared as gRPC both ways Istio reads
 * it (name `grpc`/`grpc-…` and `appProtocol: grpc`), or Istio would carry
 * its HTTP/2 as something else; the NetworkPolicies of the pods admit every
 * port their Service exposes; a VirtualService routes only to ports its
 * destination Service exposes.
 */
import type { Manifest } from './semantic-checks.ts';

type Labels = Record<string, string>;
interface ServicePort { name?: string; port?: number; targetPort?: number | string; appProtocol?: string }
interface ContainerPort { name?: string; containerPort?: number }
interface PolicyRule { ports?: Array<{ port?: number | string }> }
interface PolicySpec { podSelector?: { matchLabels?: Labels }; ingress?: PolicyRule[] }

const name = (m: Manifest) => `${m.kind}/${m.metadata?.name}`;
const matches = (selector: Labels, labels: Labels = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const isGrpcName = (portName = '') => portName === 'grpc' || portName.startsWith('grpc-');

function podTemplate(d: Manifest): { labels: Labels; ports: ContainerPort[] } {
  const template = (d.spec as { template?: { metadata?: { labels?: Labels }; spec?: { containers?: Array<{ ports?: ContainerPort[] }> } } } | undefined)?.template;
  return { labels: template?.metadata?.labels ?? {}, ports: (template?.spec?.containers ?? []).flatMap((c) => c.ports ?? []) };
}

export function portProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const deployments = byKind('Deployment');
  const services = byKind('Service');
  const policies = byKind('NetworkPolicy').map((p) => ({ namespace: p.metadata?.namespace, spec: (p.spec as PolicySpec | undefined) ?? {} }));

  for (const svc of services) {
    const spec = (svc.spec ?? {}) as { selector?: Labels; ports?: ServicePort[] };
    const pods = deployments.filter((d) => d.metadata?.namespace === svc.metadata?.namespace && matches(spec.selector ?? {}, podTemplate(d).labels));
    for (const port of spec.ports ?? []) {
      const label = `port ${port.name ?? port.port}`;
      if (isGrpcName(port.name) !== (port.appProtocol === 'grpc')) {
        problems.push(`${name(svc)}: ${label} must be named grpc or grpc-… and declare appProtocol grpc together (name ${port.name ?? 'none'}, appProtocol ${port.appProtocol ?? 'none'})`);
      }
      const target = port.targetPort ?? port.port;
      for (const d of pods) {
        const { labels, ports } = podTemplate(d);
        const container = ports.find((p) => p.containerPort === target || (p.name !== undefined && p.name === target));
        if (!container) {
          problems.push(`${name(svc)}: ${label} targets ${target}, which no container of ${name(d)} declares`);
          continue;
        }
        if (isGrpcName(container.name) && port.appProtocol !== 'grpc') problems.push(`${name(svc)}: ${label} reaches the gRPC port of ${name(d)} without appProtocol grpc`);
        const own = policies.filter((p) => p.namespace === d.metadata?.namespace && matches(p.spec.podSelector?.matchLabels ?? {}, labels));
        const admitted = own.some((p) => (p.spec.ingress ?? []).some((rule) => rule.ports === undefined || rule.ports.some((r) => r.port === container.containerPort || (container.name !== undefined && r.port === container.name))));
        if (own.length > 0 && !admitted) problems.push(`${name(svc)}: ${label} (${container.containerPort}) is admitted by no NetworkPolicy of ${name(d)}'s pods`);
      }
    }
  }

  const serviceByHost = (host: string) => services.find((s) => host === s.metadata?.name || host.startsWith(`${s.metadata?.name}.${s.metadata?.namespace}.svc.`));
  for (const vs of byKind('VirtualService')) {
    for (const [i, http] of ((vs.spec as { http?: Array<{ route?: Array<{ destination?: { host?: string; port?: { number?: number } } }> }> }).http ?? []).entries()) {
      for (const { destination } of http.route ?? []) {
        const number = destination?.port?.number;
        const svc = serviceByHost(destination?.host ?? '');
        if (number === undefined || !svc) continue;
        const exposed = ((svc.spec as { ports?: ServicePort[] }).ports ?? []).map((p) => p.port);
        if (!exposed.includes(number)) problems.push(`${name(vs)}: http[${i}] routes to port ${number} of ${name(svc)}, which exposes ${exposed.join(', ')}`);
      }
    }
  }
  return problems;
}
