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
import type { RenderOptions } from './options.ts';

/**
 * The fleet config as the in-cluster gateway sees it: each variant's one
 * upstream is that variant's own Service (Istio balances its pods and never
 * re-splits), API keys come from a Secret, and the `mesh:` section stays out.
 * Edge workers are not deployed to clusters yet (their modules and the Deno
 * runtime are not in the images), so the in-cluster config leaves them, and
 * the routes they own, out: the models behind them are served directly.
 */
export function clusterConfig(config: FleetConfig, { mesh }: RenderOptions): FleetConfig {
  const models = Object.fromEntries(
    Object.entries(config.models).map(([name, model]) => [
      name,
      {
        ...withoutEdgeWorker(model),
        variants: model.variants.map(({ port: _port, upstreams: _upstreams, edge_worker: _edge, ...v }) => ({
          ...v,
          upstreams: [`http://${serviceHost(variantWorkload(name, v.name), mesh.namespace, mesh.cluster_domain)}:${WORKER_PORT}`],
        })),
      },
    ]),
  );
  const inCluster: FleetConfig = { ...config };
  delete inCluster.mesh;
  return { ...inCluster, edge_workers: {}, routes: [], gateway: { ...config.gateway, host: '0.0.0.0', admin_host: '0.0.0.0' }, auth: { ...config.auth, api_keys: [] }, models };
}

function withoutEdgeWorker<T extends { edge_worker?: string }>(model: T): T {
  const rest = { ...model };
  delete rest.edge_worker;
  return rest;
}

export function configMapData(config: FleetConfig, options: RenderOptions): Record<string, string> {
  return { 'switchyard.yaml': stringify(clusterConfig(config, options)) };
}

/** SHA-256 of a ConfigMap's data. */
export function checksumOf(data: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('hex');
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
