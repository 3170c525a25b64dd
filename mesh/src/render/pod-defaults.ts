/** What every Switchyard pod shares: hardening, drain time and scrape annotations. */

/** Longer than a service's drain (SWITCHYARD_DRAIN_TIMEOUT_MS, 30 s) so in-flight requests finish. */
export const TERMINATION_GRACE_SECONDS = 45;

export const POD_SECURITY = { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 };

export const CONTAINER_SECURITY = { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false };

/** Annotations that let Prometheus find the service's `/metrics`. */
export function scrapeAnnotations(port: number): Record<string, string> {
  return { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' };
}
