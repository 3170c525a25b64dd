import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { createLogger } from '@switchyard/observability/logger';
import { createMetricsRegistry } from '@switchyard/observability/metrics';
import { describe, expect, it } from 'vitest';
import { createGatewayApp } from './app.ts';
import { GatewayMetrics } from './metrics/gateway-metrics.ts';
import { MemoryRateLimitStore } from './plugins/rate-limit/memory-store.ts';
import { UpstreamRegistry } from './upstream/upstream-pool.ts';

describe('gateway app routing', () => {
  it("routes with Hono's RegExpRouter: no route shape (Triton's repository paths included) forces the slower TrieRouter", async () => {
    const config = parseFleetConfig({ version: 1, models: { m: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: ['http://127.0.0.1:9'] }] } } }, 'test');
    const metrics = createMetricsRegistry({ service: 'switchyard-gateway' });
    const { app } = createGatewayApp(config, {
      registry: new UpstreamRegistry({ connectTimeoutMs: 100, breakerFailures: 5, breakerCooldownMs: 100 }),
      rateLimitStore: new MemoryRateLimitStore(),
      logger: createLogger({ service: 'switchyard-gateway', level: 'silent' }),
      metrics,
      gatewayMetrics: new GatewayMetrics(metrics.meter, metrics.fast),
      serverVersion: 'test',
      accepting: () => true,
    });
    // SmartRouter picks its router on the first request.
    expect((await app.request('/v2/health/live')).status).toBe(200);
    expect(app.router.name).toBe('SmartRouter + RegExpRouter');
  });
});
