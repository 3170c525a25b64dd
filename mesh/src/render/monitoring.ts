/**
 * For prometheus-operator users: one PodMonitor over the gateway and the
 * workers, scraping Istio's merged metrics (the app's `/metrics` plus the
 * sidecar's) on the sidecar's port 15020, which plain-text scrapes reach
 * under STRICT mTLS.
 */
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { GATEWAY, WORKER_APP } from '../naming.ts';
import type { RenderOptions } from './options.ts';

export const MERGED_METRICS_PORT = 15020;

export function renderMonitoring({ mesh }: RenderOptions): PodMonitor[] {
  return [new PodMonitor({
    metadata: { name: 'switchyard', namespace: mesh.namespace },
    spec: {
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [GATEWAY, WORKER_APP] }] },
      podMetricsEndpoints: [{ portNumber: MERGED_METRICS_PORT, path: '/stats/prometheus', interval: '15s' }],
    },
  })];
}
