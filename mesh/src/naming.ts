/** Names and labels shared by every rendered object, so selectors and references agree. */
export const GATEWAY = 'switchyard-gateway';
export const WORKER_PORT = 8000;
export const GATEWAY_PORT = 8080;
export const VARIANT_HEADER = 'x-switchyard-variant';
/** Node label that places pods on a pool; GPU nodes also carry the `nvidia.com/gpu` taint. */
export const POOL_LABEL = 'switchyard.dev/pool';

export const modelService = (model: string): string => `worker-${model}`;
export const variantWorkload = (model: string, variant: string): string => `worker-${model}-${variant}`;

export function workerLabels(model: string, variant: string, version: number): Record<string, string> {
  return { app: 'switchyard-worker', model, variant, version: String(version) };
}

export function gatewayLabels(): Record<string, string> {
  return { app: GATEWAY };
}

/** The SPIFFE principal Istio gives a service account. */
export function principalOf(namespace: string, serviceAccount: string): string {
  return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}
