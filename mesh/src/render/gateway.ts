/** The Switchyard gateway: Deployment (replicas owned by its HPA, edge workers as sidecars), Service, HPA and PDB. */
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { API_KEYS_SECRET, CONFIG_CHECKSUM_ANNOTATION, CONFIG_MAP, GATEWAY, GATEWAY_PORT, gatewayGrpcPort, gatewayLabels, REDIS_SECRET } from '../naming.ts';
import { edgeSidecars, edgeVolumes } from './edge-workers.ts';
import { configChecksum } from './identity.ts';
import type { RenderOptions } from './options.ts';
import { CONTAINER_SECURITY, POD_SECURITY, podAnnotations, TERMINATION_GRACE_SECONDS, TMP_MOUNT, TMP_VOLUME, topologySpread } from './pod-defaults.ts';

export const CONFIG_DIR = '/etc/switchyard';
/** Beside, not inside, the ConfigMap volume: each volume's `..data` swap stays its own. */
export const KEYS_DIR = '/etc/switchyard-keys';

export function renderGateway(config: FleetConfig, options: RenderOptions): Array<Deployment | Service | HorizontalPodAutoscaler | PodDisruptionBudget> {
  const { gatewayImage, otlpEndpoint, gatewayReplicas } = options;
  const { namespace } = options.mesh;
  const labels = gatewayLabels();
  const adminPort = config.gateway.admin_port;
  const grpcPort = gatewayGrpcPort(config.gateway);
  return [
    new Deployment({
      metadata: { name: GATEWAY, namespace, labels },
      spec: {
        // No `replicas`: the HPA owns the count (an apply would otherwise reset it).
        selector: { matchLabels: labels },
        template: {
          metadata: {
            labels: { ...labels, 'sidecar.istio.io/inject': 'true' },
            annotations: { ...podAnnotations(GATEWAY_PORT), [CONFIG_CHECKSUM_ANNOTATION]: configChecksum(config, options) },
          },
          spec: {
            serviceAccountName: GATEWAY,
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
            securityContext: POD_SECURITY,
            topologySpreadConstraints: topologySpread(labels),
            containers: [{
              name: 'gateway',
              image: gatewayImage,
              ports: [
                { name: 'http', containerPort: GATEWAY_PORT },
                ...(grpcPort === undefined ? [] : [{ name: 'grpc', containerPort: grpcPort }]),
                { name: 'admin', containerPort: adminPort },
              ],
              env: [
                { name: 'SWITCHYARD_CONFIG', value: `${CONFIG_DIR}/switchyard.yaml` },
                { name: 'PORT', value: String(GATEWAY_PORT) },
                ...(grpcPort === undefined ? [] : [{ name: 'GRPC_PORT', value: String(grpcPort) }]),
                { name: 'HOST', value: '0.0.0.0' },
                { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: REDIS_SECRET, key: 'url' } } },
                { name: 'SWITCHYARD_API_KEYS_FILE', value: `${KEYS_DIR}/api-keys.yaml` },
                { name: 'OTEL_SERVICE_NAME', value: GATEWAY },
                { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlpEndpoint },
                { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
                { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.1' },
              ],
              readinessProbe: { httpGet: { path: '/v2/health/ready', port: GATEWAY_PORT }, periodSeconds: 5 },
              livenessProbe: { httpGet: { path: '/v2/health/live', port: GATEWAY_PORT }, periodSeconds: 10 },
              resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                { name: 'api-keys', mountPath: KEYS_DIR, readOnly: true },
                TMP_MOUNT,
              ],
            }, ...edgeSidecars(config, options)],
            volumes: [
              { name: 'config', configMap: { name: CONFIG_MAP } },
              // Required: the gateway refuses to start without its key file, so a missing Secret holds the pod in
              // ContainerCreating with an event naming it, rather than crash-looping.
              { name: 'api-keys', secret: { secretName: API_KEYS_SECRET } },
              TMP_VOLUME,
              ...edgeVolumes(config),
            ],
          },
        },
      },
    }),
    new Service({
      metadata: { name: GATEWAY, namespace, labels },
      spec: {
        selector: labels,
        ports: [
          { name: 'http', port: 80, targetPort: GATEWAY_PORT, appProtocol: 'http' },
          // gRPC is HTTP/2: named and declared as such, so the sidecars route it as gRPC.
          ...(grpcPort === undefined ? [] : [{ name: 'grpc', port: grpcPort, targetPort: grpcPort, appProtocol: 'grpc' }]),
        ],
      },
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
