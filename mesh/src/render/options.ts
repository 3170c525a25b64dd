/** What a rendering needs besides the fleet config. */
export interface RenderOptions {
  namespace: string;
  /** Image of the gateway, e.g. `registry.example.com/switchyard/gateway:0.1.0`. */
  gatewayImage: string;
  /** Worker images per pool. */
  workerImages: { cpu: string; gpu: string };
  /** The PersistentVolumeClaim that holds the model repository (mounted read-only). */
  modelsClaim: string;
  /** Secret with `redis-url`. */
  secretName: string;
  /** Collector address for traces (OTLP/HTTP). */
  otlpEndpoint: string;
  gatewayReplicas: number;
}

export const DEFAULT_OPTIONS: RenderOptions = {
  namespace: 'switchyard',
  gatewayImage: 'switchyard/gateway:0.1.0',
  workerImages: { cpu: 'switchyard/model-worker:0.1.0', gpu: 'switchyard/model-worker:0.1.0-cuda12' },
  modelsClaim: 'switchyard-models',
  secretName: 'switchyard-secrets',
  otlpEndpoint: 'http://otel-collector.observability.svc.cluster.local:4318',
  gatewayReplicas: 2,
};
