/**
 * The optional Namespace (sidecar injection on), service accounts (no API
 * token: nothing here calls the Kubernetes API), and the ConfigMap carrying
 * the in-cluster switchyard.yaml.
 */
import { createHash } from 'node:crypto';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { stringify } from 'yaml';
import { CONFIG_MAP, GATEWAY, serviceHost, variantWorkload, WORKER_PORT } from '../naming.ts';
import { clusterEdgeWorker, EDGE_BINDING_PORT, edgeConfigMapData, edgePorts } from './edge-workers.ts';
import type { RenderOptions } from './options.ts';

/**
 * The fleet config as the in-cluster gateway sees it: each variant's one
 * upstream is that variant's own Service (Istio balances its pods and never
 * re-splits), API keys come from a Secret, and the `mesh:` section stays out.
 * Edge workers and their routes stay, each at its sidecar's loopback address
 * (the gateway calls them there and starts no Deno process), with the model
 * binding on its fixed port.
 */
export function clusterConfig(config: FleetConfig, { mesh }: RenderOptions): FleetConfig {
  const models = Object.fromEntries(
    Object.entries(config.models).map(([name, model]) => [
      name,
      {
        ...model,
        variants: model.variants.map(({ port: _port, upstreams: _upstreams, ...v }) => ({
          ...v,
          upstreams: [`http://${serviceHost(variantWorkload(name, v.name), mesh.namespace, mesh.cluster_domain)}:${WORKER_PORT}`],
        })),
      },
    ]),
  );
  const ports = edgePorts(config);
  const edgeWorkers = Object.fromEntries(Object.entries(config.edge_workers).map(([name, spec]) => [name, clusterEdgeWorker(name, spec, ports.get(name) as number)]));
  const inCluster: FleetConfig = { ...config };
  delete inCluster.mesh;
  return {
    ...inCluster,
    edge_workers: edgeWorkers,
    gateway: { ...config.gateway, host: '0.0.0.0', admin_host: '0.0.0.0', ...(ports.size > 0 ? { edge_binding_port: EDGE_BINDING_PORT } : {}) },
    auth: { ...config.auth, api_keys: [] },
    models,
  };
}

/** The gateway's config and the edge workers' modules: one ConfigMap, so a changed module rolls the pods like a changed config. */
export function configMapData(config: FleetConfig, options: RenderOptions): Record<string, string> {
  return { 'switchyard.yaml': stringify(clusterConfig(config, options)), ...edgeConfigMapData(config, options) };
}

/** SHA-256 of a ConfigMap's data, whatever the order of its keys (kustomize sorts them). */
export function checksumOf(data: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** Changes whenever the ConfigMap's content does, so a changed config rolls the gateway even without a reload. */
export function configChecksum(config: FleetConfig, options: RenderOptions): string {
  return checksumOf(configMapData(config, options));
}

export function renderIdentity(config: FleetConfig, options: RenderOptions): Array<Namespace | ServiceAccount | ConfigMap> {
  const { namespace } = options.mesh;
  const accounts = [GATEWAY, ...Object.entries(config.models).flatMap(([m, spec]) => spec.variants.map((v) => variantWorkload(m, v.name)))];
  return [
    ...(options.mesh.create_namespace ? [new Namespace({ metadata: { name: namespace, labels: { 'istio-injection': 'enabled', 'pod-security.kubernetes.io/enforce': 'restricted' } } })] : []),
    ...accounts.map((name) => new ServiceAccount({ metadata: { name, namespace }, automountServiceAccountToken: false })),
    new ConfigMap({ metadata: { name: CONFIG_MAP, namespace }, data: configMapData(config, options) }),
  ];
}
