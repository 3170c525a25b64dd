/**
 * Model workers, per variant: a Deployment on its node pool (GPU variants
 * request `nvidia.com/gpu`, tolerate the GPU taint, run at a higher
 * priority), its own Service (the gateway's upstream for that variant, so
 * nothing downstream re-splits traffic), an HPA that owns the replica count
 * and a PDB that keeps one pod through voluntary disruptions.
 */
import type { FleetConfig, VariantConfig } from '@switchyard/fleet-config/schema';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import type { IMetricSpec } from 'kubernetes-models/autoscaling/v2/MetricSpec';
import type { IAffinity } from 'kubernetes-models/v1/Affinity';
import { Service } from 'kubernetes-models/v1/Service';
import { GPU_PRIORITY_CLASS, POOL_LABEL, variantWorkload, WORKER_GRPC_PORT, WORKER_PORT, workerPodLabels, workerSelector } from '../naming.ts';
import type { RenderOptions } from './options.ts';
import { CONTAINER_SECURITY, POD_SECURITY, podAnnotations, TERMINATION_GRACE_SECONDS, TMP_MOUNT, TMP_VOLUME, topologySpread } from './pod-defaults.ts';

type WorkerObject = Deployment | Service | HorizontalPodAutoscaler | PodDisruptionBudget | PriorityClass;

/** Queue depth per pod above which a GPU variant scales out (CPU use says little about a GPU's load). */
export const GPU_QUEUE_TARGET = '4';

/** Required node affinity to the pool's nodes. */
export function poolAffinity(pool: string): IAffinity {
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: POOL_LABEL, operator: 'In', values: [pool] }] }] } } };
}

export function cpuScaling(): IMetricSpec[] {
  return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 75 } } }];
}

function gpuScaling(): IMetricSpec[] {
  // Served to the HPA by a custom-metrics adapter (e.g. prometheus-adapter) from the workers' own gauge.
  return [{ type: 'Pods', pods: { metric: { name: 'switchyard_worker_queue_depth' }, target: { type: 'AverageValue', averageValue: GPU_QUEUE_TARGET } } }];
}

export const WORKER_RESOURCES = {
  cpu: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '2Gi' } },
  gpu: { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } },
};

function workerDeployment(model: string, variant: VariantConfig, options: RenderOptions): Deployment {
  const { workerImages, modelsClaim, otlpEndpoint } = options;
  const { namespace } = options.mesh;
  const name = variantWorkload(model, variant.name);
  const selector = workerSelector(model, variant.name);
  const gpu = variant.pool === 'gpu';
  return new Deployment({
    metadata: { name, namespace, labels: workerPodLabels(model, variant.name, variant.version) },
    spec: {
      // No `replicas`: the HPA owns the count. The selector leaves out the version, so a new version applies in place.
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: workerPodLabels(model, variant.name, variant.version), annotations: podAnnotations(WORKER_PORT) },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
          affinity: poolAffinity(variant.pool),
          topologySpreadConstraints: topologySpread(selector),
          ...(gpu ? { priorityClassName: GPU_PRIORITY_CLASS, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
          securityContext: POD_SECURITY,
          containers: [{
            name: 'worker',
            image: gpu ? workerImages.gpu : workerImages.cpu,
            ports: [{ name: 'http', containerPort: WORKER_PORT }, { name: 'grpc', containerPort: WORKER_GRPC_PORT }],
            env: [
              { name: 'SWITCHYARD_MODEL', value: model },
              { name: 'SWITCHYARD_MODEL_VERSIONS', value: String(variant.version) },
              { name: 'SWITCHYARD_MODEL_REPOSITORY', value: '/models' },
              { name: 'SWITCHYARD_VARIANT', value: variant.name },
              { name: 'SWITCHYARD_POOL', value: variant.pool },
              { name: 'PORT', value: String(WORKER_PORT) },
              { name: 'GRPC_PORT', value: String(WORKER_GRPC_PORT) },
              { name: 'HOST', value: '0.0.0.0' },
              { name: 'OTEL_SERVICE_NAME', value: name },
              { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: otlpEndpoint },
            ],
            // Ready only after every version is loaded and warmed up.
            readinessProbe: { httpGet: { path: '/v2/health/ready', port: WORKER_PORT }, periodSeconds: 5 },
            livenessProbe: { httpGet: { path: '/v2/health/live', port: WORKER_PORT }, periodSeconds: 10 },
            startupProbe: { httpGet: { path: '/v2/health/live', port: WORKER_PORT }, periodSeconds: 5, failureThreshold: 60 },
            resources: gpu ? WORKER_RESOURCES.gpu : WORKER_RESOURCES.cpu,
            securityContext: CONTAINER_SECURITY,
            volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }, TMP_MOUNT],
          }],
          volumes: [{ name: 'models', persistentVolumeClaim: { claimName: modelsClaim, readOnly: true } }, TMP_VOLUME],
        },
      },
    },
  });
}

export function renderWorkers(config: FleetConfig, options: RenderOptions): WorkerObject[] {
  const { namespace } = options.mesh;
  const objects: WorkerObject[] = [];
  const variants = Object.entries(config.models).flatMap(([model, spec]) => spec.variants.map((variant) => ({ model, variant })));
  if (variants.some(({ variant }) => variant.pool === 'gpu')) {
    objects.push(new PriorityClass({
      metadata: { name: GPU_PRIORITY_CLASS },
      value: 100000,
      globalDefault: false,
      preemptionPolicy: 'PreemptLowerPriority',
      description: 'Switchyard GPU model workers: scheduled ahead of batch work on the GPU pool.',
    }));
  }
  for (const { model, variant } of variants) {
    const name = variantWorkload(model, variant.name);
    const selector = workerSelector(model, variant.name);
    // At least two pods, so the PDB below still lets a node drain evict one.
    const minReplicas = Math.max(2, variant.replicas);
    objects.push(
      workerDeployment(model, variant, options),
      new Service({
        metadata: { name, namespace, labels: selector },
        spec: {
          selector,
          ports: [
            { name: 'http', port: WORKER_PORT, targetPort: WORKER_PORT, appProtocol: 'http' },
            { name: 'grpc', port: WORKER_GRPC_PORT, targetPort: WORKER_GRPC_PORT, appProtocol: 'grpc' },
          ],
        },
      }),
      new HorizontalPodAutoscaler({
        metadata: { name, namespace },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas,
          maxReplicas: minReplicas * 4,
          metrics: variant.pool === 'gpu' ? gpuScaling() : cpuScaling(),
        },
      }),
      new PodDisruptionBudget({ metadata: { name, namespace }, spec: { minAvailable: 1, selector: { matchLabels: selector } } }),
    );
  }
  return objects;
}
