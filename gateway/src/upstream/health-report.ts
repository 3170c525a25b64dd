/**
 * The one place an upstream health change is reported: the
 * `switchyard_gateway_upstream_healthy` gauge and one log line, whether the
 * health checker or the proxy noticed it. Pass the result as the upstream
 * registry's `onHealthChange`.
 */
import type { Logger } from '@switchyard/observability/logger';
import type { HealthChange } from './upstream-pool.ts';

export interface HealthGauge {
  healthChanged(upstream: string, healthy: boolean): void;
}

export function reportUpstreamHealth(gauge: HealthGauge, logger: Logger): (change: HealthChange) => void {
  return function reportHealthChange({ url, healthy, source, reason }) {
    gauge.healthChanged(url, healthy);
    const line = { upstream: url, healthy, source, ...(reason !== undefined ? { reason } : {}) };
    if (healthy) logger.info(line, 'upstream health changed');
    else logger.warn(line, 'upstream health changed');
  };
}
