/**
 * Model workers: per variant a Deployment on its node pool (GPU variants
 * request `nvidia.com/gpu` and tolerate the GPU taint), HPA and PDB; per
 * model one Service over all its variants (Istio picks the subset).
 */
import type { FleetConfig, VariantConfig } from '@switchyard/fleet-config/schema';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { modelService, POOL_LABEL, variantWorkload, WORKER_PORT, workerLabels } from '../naming.ts';
import type { RenderOptions } from './options.ts';
import { CONTAINER_SECURITY, POD_SECURITY, scrapeAnnotations, TERMINATION_GRACE_SECONDS } from './pod-defaults.ts';


function workerDeployment(model: string, variant: VariantConfig, options: RenderOptions): Deployment {
  const { namespace, workerImages, modelsClaim, otlpEndpoint } = options;
  const name = variantWorkload(model, variant.name);
  const labels = workerLabels(model, variant.name, variant.version);
  const gpu = variant.pool === 'gpu';
  return new Deployment({
    metadata: { name, namespace, labels },
    spec: {
      replicas: variant.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: scrapeAnnotations(WORKER_PORT) },
        spec: {
          serviceAccountName: name,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          nodeSelector: { [POOL_LABEL]: variant.pool },
          ...(gpu ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
          securityContext: POD_SECURITY,
          containers: [{
            name: 'worker',
            image: gpu ? workerImages.gpu : workerImages.cpu,
            ports: [{ name: 'http', containerPort: WORKER_PORT }],
            env: [
              { name: 'SWITCHYARD_MODEL', value: model },
              { name: 'SWITCHYARD_MODEL_VERSIONS', value: String(variant.version) },
              { name: 'SWITCHYARD_MODEL_REPOSITORY', value: '/models' },
              { name: 'SWITCHYARD_VARIANT', value: variant.name },
              { name: 'SWITCHYARD_POOL', value: variant.pool },
              { name: 'PORT', value: String(WORKER_PORT) },
              { name: 'HOST', value: '0.0.0.0' },
              { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlpEndpoint },
            ],
            // Ready only after every version is loaded and warmed up.
            readinessProbe: { httpGet: { path: '/v2/health/ready', port: WORKER_PORT }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: '/v2/health/live', port: WORKER_PORT }, periodSeconds: 10 },
            startupProbe: { httpGet: { path: '/v2/health/live', port: WORKER_PORT }, periodSeconds: 5, failureThreshold: 60 },
            resources: gpu
              ? { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } }
              : { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
            securityContext: CONTAINER_SECURITY,
            volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
          }],
          volumes: [
            { name: 'models', persistentVolumeClaim: { claimName: modelsClaim, readOnly: true } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  });
}

export function renderWorkers(config: FleetConfig, options: RenderOptions): Array<Deployment | Service | HorizontalPodAutoscaler | PodDisruptionBudget> {
  const { namespace } = options;
  const objects: Array<Deployment | Service | HorizontalPodAutoscaler | PodDisruptionBudget> = [];
  for (const [model, spec] of Object.entries(config.models)) {
    objects.push(new Service({
      metadata: { name: modelService(model), namespace, labels: { app: 'switchyard-worker', model } },
      spec: { selector: { app: 'switchyard-worker', model }, ports: [{ name: 'http', port: WORKER_PORT, targetPort: WORKER_PORT }] },
    }));
    for (const variant of spec.variants) {
      const name = variantWorkload(model, variant.name);
      objects.push(
        workerDeployment(model, variant, options),
        new HorizontalPodAutoscaler({
          metadata: { name, namespace },
          spec: {
            scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
            minReplicas: variant.replicas,
            maxReplicas: variant.replicas * 4,
            metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } }],
          },
        }),
        new PodDisruptionBudget({ metadata: { name, namespace }, spec: { maxUnavailable: 1, selector: { matchLabels: workerLabels(model, variant.name, variant.version) } } }),
      );
    }
  }
  return objects;
}
