/** What every Switchyard pod shares: Pod Security "restricted", drain times, mesh and scrape annotations, spreading. */
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { ITopologySpreadConstraint } from 'kubernetes-models/v1/TopologySpreadConstraint';

/** The services drain for up to 30 s (SWITCHYARD_DRAIN_TIMEOUT_MS); the grace period covers it and the sidecar's drain. */
export const TERMINATION_GRACE_SECONDS = 45;
/** Envoy keeps serving the app's in-flight requests this long after SIGTERM (Istio's default, 5 s, cut the drain). */
export const PROXY_DRAIN_SECONDS = 40;
/** The uid every image runs as (see mesh/docker). */
export const RUN_AS = 10001;

export const POD_SECURITY: IPodSecurityContext = { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS, seccompProfile: { type: 'RuntimeDefault' } };

export const CONTAINER_SECURITY: ISecurityContext = { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } };

/** Prometheus annotations (Istio merges them into the sidecar's metrics) and the sidecar's start/drain settings. */
export function podAnnotations(port: number): Record<string, string> {
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': String(port),
    'prometheus.io/path': '/metrics',
    'proxy.istio.io/config': JSON.stringify({ holdApplicationUntilProxyStarts: true, terminationDrainDuration: `${PROXY_DRAIN_SECONDS}s` }),
  };
}

/** Spread replicas over zones and nodes, preferring balance over staying Pending. */
export function topologySpread(matchLabels: Record<string, string>): ITopologySpreadConstraint[] {
  return ['topology.kubernetes.io/zone', 'kubernetes.io/hostname'].map((topologyKey) => ({
    maxSkew: 1, topologyKey, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels },
  }));
}

/** A writable /tmp on a read-only root filesystem. */
export const TMP_VOLUME = { name: 'tmp', emptyDir: { sizeLimit: '256Mi' } };
export const TMP_MOUNT = { name: 'tmp', mountPath: '/tmp' };
