/** Namespace (sidecar injection on), service accounts, the config map carrying switchyard.yaml. */
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { stringify } from 'yaml';
import { GATEWAY, modelService, variantWorkload, WORKER_PORT } from '../naming.ts';
import type { RenderOptions } from './options.ts';

/** The fleet config as the in-cluster gateway sees it: every variant behind its model's Service, keys from a Secret. */
export function clusterConfig(config: FleetConfig, { namespace }: RenderOptions): FleetConfig {
  const models = Object.fromEntries(
    Object.entries(config.models).map(([name, model]) => [
      name,
      {
        ...model,
        variants: model.variants.map(({ port: _port, ...v }) => ({ ...v, upstreams: [`http://${modelService(name)}.${namespace}.svc.cluster.local:${WORKER_PORT}`] })),
      },
    ]),
  );
  // API keys live in a Secret (see the gateway Deployment), not in the config map.
  return { ...config, gateway: { ...config.gateway, host: '0.0.0.0', admin_host: '0.0.0.0' }, auth: { ...config.auth, api_keys: [] }, models };
}

export function renderIdentity(config: FleetConfig, options: RenderOptions): Array<Namespace | ServiceAccount | ConfigMap> {
  const { namespace } = options;
  const accounts = [GATEWAY, ...Object.entries(config.models).flatMap(([m, spec]) => spec.variants.map((v) => variantWorkload(m, v.name)))];
  return [
    new Namespace({ metadata: { name: namespace, labels: { 'istio-injection': 'enabled' } } }),
    ...accounts.map((name) => new ServiceAccount({ metadata: { name, namespace } })),
    new ConfigMap({ metadata: { name: 'switchyard-config', namespace }, data: { 'switchyard.yaml': stringify(clusterConfig(config, options)) } }),
  ];
}
