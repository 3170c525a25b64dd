/**
 * A NetworkPolicy per workload (ingress only): the gateway takes traffic
 * (HTTP and gRPC) from the ingress gateway's pods, workers (HTTP and gRPC)
 * from the gateway, Redis from the gateway; the scraper's namespace may read metrics (the app port and the
 * sidecar's merged-metrics and Envoy ports). Egress is left open: Redis,
 * JWKS and the collector live where the operator puts them.
 */
import type { FleetConfig, MeshConfig } from '@switchyard/fleet-config/schema';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { GATEWAY, GATEWAY_PORT, gatewayLabels, gatewayServingPorts, REDIS, REDIS_PORT, variantWorkload, WORKER_GRPC_PORT, WORKER_PORT, workerSelector } from '../naming.ts';
import type { RenderOptions } from './options.ts';

/** Istio's merged Prometheus endpoint and Envoy's own stats. */
const SIDECAR_METRICS_PORTS = [15020, 15090];

const tcp = (port: number) => ({ protocol: 'TCP', port });
const byNamespace = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });

function scraperRule(mesh: MeshConfig, appPort: number) {
  return { from: [byNamespace(mesh.scraper.namespace)], ports: [appPort, ...SIDECAR_METRICS_PORTS].map(tcp) };
}

function policy(name: string, namespace: string, podSelector: Record<string, string>, ingress: object[]): NetworkPolicy {
  return new NetworkPolicy({ metadata: { name, namespace }, spec: { podSelector: { matchLabels: podSelector }, policyTypes: ['Ingress'], ingress } });
}

export function renderNetworkPolicies(config: FleetConfig, { mesh }: RenderOptions): NetworkPolicy[] {
  const fromGateway = { podSelector: { matchLabels: gatewayLabels() } };
  const gatewayPorts = gatewayServingPorts(config.gateway);
  return [
    policy(GATEWAY, mesh.namespace, gatewayLabels(), [
      { from: [{ ...byNamespace(mesh.ingress.namespace), podSelector: { matchLabels: mesh.ingress.selector } }], ports: gatewayPorts.map(tcp) },
      scraperRule(mesh, GATEWAY_PORT),
    ]),
    ...Object.entries(config.models).flatMap(([model, spec]) => spec.variants.map((v) =>
      policy(variantWorkload(model, v.name), mesh.namespace, workerSelector(model, v.name), [{ from: [fromGateway], ports: [tcp(WORKER_PORT), tcp(WORKER_GRPC_PORT)] }, scraperRule(mesh, WORKER_PORT)]),
    )),
  ];
}

/** For the dev overlay's in-cluster Redis. */
export function redisNetworkPolicy(mesh: MeshConfig): NetworkPolicy {
  return policy(REDIS, mesh.namespace, { app: REDIS }, [{ from: [{ podSelector: { matchLabels: gatewayLabels() } }], ports: [tcp(REDIS_PORT)] }]);
}
