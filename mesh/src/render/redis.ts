/**
 * The dev overlay's own Redis (one pod, no persistence: flags and rate-limit
 * counters are rebuilt on restart). Production points `switchyard-redis`'s
 * `url` at a managed Redis instead (see the README).
 */
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { GATEWAY, principalOf, REDIS, REDIS_PORT, serviceHost } from '../naming.ts';
import { redisNetworkPolicy } from './network-policies.ts';
import type { RenderOptions } from './options.ts';
import { CONTAINER_SECURITY, POD_SECURITY, TERMINATION_GRACE_SECONDS } from './pod-defaults.ts';

/** The `url` the dev overlay's generated `switchyard-redis` Secret carries. */
export function inClusterRedisUrl({ mesh }: RenderOptions): string {
  return `redis://${serviceHost(REDIS, mesh.namespace, mesh.cluster_domain)}:${REDIS_PORT}`;
}

export function renderRedis(options: RenderOptions): Array<ServiceAccount | Deployment | Service | NetworkPolicy | AuthorizationPolicy> {
  const { mesh } = options;
  const { namespace } = mesh;
  const labels = { app: REDIS };
  return [
    new ServiceAccount({ metadata: { name: REDIS, namespace }, automountServiceAccountToken: false }),
    new Deployment({
      metadata: { name: REDIS, namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels: { ...labels, 'sidecar.istio.io/inject': 'true' } },
          spec: {
            serviceAccountName: REDIS,
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
            securityContext: POD_SECURITY,
            containers: [{
              name: 'redis',
              image: options.redisImage,
              args: ['--save', '', '--appendonly', 'no'],
              ports: [{ name: 'tcp-redis', containerPort: REDIS_PORT }],
              readinessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 5 },
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            }],
            volumes: [{ name: 'data', emptyDir: { sizeLimit: '256Mi' } }],
          },
        },
      },
    }),
    new Service({
      metadata: { name: REDIS, namespace, labels },
      spec: { selector: labels, ports: [{ name: 'tcp-redis', port: REDIS_PORT, targetPort: REDIS_PORT, appProtocol: 'redis' }] },
    }),
    redisNetworkPolicy(mesh),
    new AuthorizationPolicy({
      metadata: { name: 'redis-from-gateway', namespace },
      spec: { selector: { matchLabels: labels }, action: 'ALLOW', rules: [{ from: [{ source: { principals: [principalOf(mesh.trust_domain, namespace, GATEWAY)] } }] }] },
    }),
  ];
}
