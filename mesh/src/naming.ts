/** Names and labels shared by every rendered object, so selectors and references agree. */
export const GATEWAY = 'switchyard-gateway';
export const WORKER_APP = 'switchyard-worker';
export const REDIS = 'switchyard-redis';
export const WORKER_PORT = 8000;
/** The workers' gRPC port (inference.GRPCInferenceService), beside HTTP as in Triton (8000/8001). */
export const WORKER_GRPC_PORT = 8001;
export const GATEWAY_PORT = 8080;
/** The gateway's gRPC port when `gateway.grpc_port` is 0 (any free port locally; a cluster needs a fixed one). */
export const DEFAULT_GATEWAY_GRPC_PORT = 8001;
export const REDIS_PORT = 6379;
export const VARIANT_HEADER = 'x-switchyard-variant';
/** Node label that places pods on a pool; GPU nodes also carry the `nvidia.com/gpu` taint. */
export const POOL_LABEL = 'switchyard.dev/pool';
export const CONFIG_MAP = 'switchyard-config';
/** Operator-provided Secrets: API-key digests (`api-keys.yaml`) and the Redis URL (`url`). */
export const API_KEYS_SECRET = 'switchyard-api-keys';
export const REDIS_SECRET = 'switchyard-redis';
export const GPU_PRIORITY_CLASS = 'switchyard-gpu-inference';
/** Pod annotation holding the SHA-256 of the config the pod was started with. */
export const CONFIG_CHECKSUM_ANNOTATION = 'switchyard.dev/config-checksum';

/** Deployment, Service, HPA, PDB and service account of one variant: `worker-<model>-<variant>`. */
export const variantWorkload = (model: string, variant: string): string => `worker-${model}-${variant}`;

/** Selects one variant's pods. Immutable (a Deployment selector), so it never holds the version. */
export function workerSelector(model: string, variant: string): Record<string, string> {
  return { app: WORKER_APP, model, variant };
}

/** Pod labels: the selector plus the version (for Istio telemetry) and sidecar injection. */
export function workerPodLabels(model: string, variant: string, version: number): Record<string, string> {
  return { ...workerSelector(model, variant), version: String(version), 'sidecar.istio.io/inject': 'true' };
}

export function gatewayLabels(): Record<string, string> {
  return { app: GATEWAY };
}

/** Where a Service answers inside the cluster. */
export function serviceHost(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`;
}

/** The SPIFFE principal Istio gives a service account. */
export function principalOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The gateway's gRPC port in the cluster: `gateway.grpc_port`, or none when the config serves no gRPC. */
export function gatewayGrpcPort(gateway: { grpc_port?: number | undefined }): number | undefined {
  if (gateway.grpc_port === undefined) return undefined;
  return gateway.grpc_port === 0 ? DEFAULT_GATEWAY_GRPC_PORT : gateway.grpc_port;
}

/** The ports the gateway serves callers on: HTTP, and gRPC when configured (the admin port is never exposed). */
export function gatewayServingPorts(gateway: { grpc_port?: number | undefined }): number[] {
  const grpc = gatewayGrpcPort(gateway);
  return grpc === undefined ? [GATEWAY_PORT] : [GATEWAY_PORT, grpc];
}
