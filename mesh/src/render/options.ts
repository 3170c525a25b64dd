/** What a rendering needs besides the fleet config's models: placement (`mesh:`), images and addresses. */
import { MeshSchema, type FleetConfig, type MeshConfig } from '@switchyard/fleet-config/schema';
import { readEdgeModules } from './edge-workers.ts';

export interface RenderOptions {
  /** The fleet config's `mesh:` section with its defaults, after command-line overrides. */
  mesh: MeshConfig;
  /** Image of the gateway. Default `registry.example.com/switchyard/gateway:0.1.0` (pin a digest with `kustomize edit set image`). */
  gatewayImage: string;
  /** Image of the edge workers' Deno host (the gateway pod's sidecars). */
  edgeImage: string;
  /** Each edge worker's module text. Default: read from the files switchyard.yaml names. */
  edgeModules: Record<string, string>;
  /** Worker images per pool. */
  workerImages: { cpu: string; gpu: string };
  /** Redis for the dev overlay. */
  redisImage: string;
  /** The PersistentVolumeClaim that holds the model repository (mounted read-only). */
  modelsClaim: string;
  /** Collector address for traces (OTLP/HTTP). */
  otlpEndpoint: string;
  /** The gateway HPA's minimum. Default 2. */
  gatewayReplicas: number;
}

export type RenderOverrides = Partial<Omit<RenderOptions, 'mesh'>> & { mesh?: Partial<Pick<MeshConfig, 'namespace' | 'trust_domain' | 'cluster_domain'>> };

const REGISTRY = 'registry.example.com/switchyard';

export function resolveRenderOptions(config: FleetConfig, overrides: RenderOverrides = {}): RenderOptions {
  const { mesh: meshOverrides, ...rest } = overrides;
  return {
    gatewayImage: `${REGISTRY}/gateway:0.1.0`,
    edgeImage: `${REGISTRY}/edge-worker:0.1.0`,
    workerImages: { cpu: `${REGISTRY}/model-worker:0.1.0`, gpu: `${REGISTRY}/model-worker:0.1.0-cuda12` },
    redisImage: 'docker.io/library/redis:7.4-alpine',
    modelsClaim: 'switchyard-models',
    otlpEndpoint: 'http://otel-collector.observability.svc.cluster.local:4318',
    gatewayReplicas: 2,
    ...rest,
    edgeModules: rest.edgeModules ?? readEdgeModules(config),
    mesh: { ...(config.mesh ?? MeshSchema.parse({})), ...meshOverrides },
  };
}
