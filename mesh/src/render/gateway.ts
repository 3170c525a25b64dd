/** The Switchyard gateway: Deployment, Service, HPA and PDB. */
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { GATEWAY, GATEWAY_PORT, gatewayLabels } from '../naming.ts';
import type { RenderOptions } from './options.ts';
import { CONTAINER_SECURITY, POD_SECURITY, scrapeAnnotations, TERMINATION_GRACE_SECONDS } from './pod-defaults.ts';


export function renderGateway(config: FleetConfig, options: RenderOptions): Array<Deployment | Service | HorizontalPodAutoscaler | PodDisruptionBudget> {
  const { namespace, gatewayImage, secretName, otlpEndpoint, gatewayReplicas } = options;
  const labels = gatewayLabels();
  const adminPort = config.gateway.admin_port;
  return [
    new Deployment({
      metadata: { name: GATEWAY, namespace, labels },
      spec: {
        replicas: gatewayReplicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations: scrapeAnnotations(GATEWAY_PORT) },
          spec: {
            serviceAccountName: GATEWAY,
            terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
            securityContext: POD_SECURITY,
            containers: [{
              name: 'gateway',
              image: gatewayImage,
              ports: [{ name: 'http', containerPort: GATEWAY_PORT }, { name: 'admin', containerPort: adminPort }],
              env: [
                { name: 'SWITCHYARD_CONFIG', value: '/etc/switchyard/switchyard.yaml' },
                { name: 'PORT', value: String(GATEWAY_PORT) },
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: secretName, key: 'redis-url' } } },
                { name: 'SWITCHYARD_API_KEYS_FILE', value: '/etc/switchyard/keys/api-keys.yaml' },
                { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlpEndpoint },
                { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
                { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.1' },
              ],
              readinessProbe: { httpGet: { path: '/v2/health/ready', port: GATEWAY_PORT }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/v2/health/live', port: GATEWAY_PORT }, periodSeconds: 10 },
              resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                { name: 'config', mountPath: '/etc/switchyard', readOnly: true },
                { name: 'api-keys', mountPath: '/etc/switchyard/keys', readOnly: true },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name: 'switchyard-config' } },
              // API-key digests: `api-keys.yaml` (`api_keys: [...]`) in the Secret `switchyard-api-keys`.
              { name: 'api-keys', secret: { secretName: 'switchyard-api-keys', optional: true } },
            ],
          },
        },
      },
    }),
    new Service({
      metadata: { name: GATEWAY, namespace, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: GATEWAY_PORT }] },
    }),
    new HorizontalPodAutoscaler({
      metadata: { name: GATEWAY, namespace },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: GATEWAY },
        minReplicas: gatewayReplicas,
        maxReplicas: gatewayReplicas * 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    }),
    new PodDisruptionBudget({ metadata: { name: GATEWAY, namespace }, spec: { minAvailable: 1, selector: { matchLabels: labels } } }),
  ];
}
