import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics.ts';

describe('metrics registry', () => {
  it('renders counters and histograms in Prometheus text format, separately per registry', async () => {
    const a = createMetricsRegistry({ service: 'a' });
    const b = createMetricsRegistry({ service: 'b' });
    a.meter.createCounter('jobs').add(3, { kind: 'x' });
    a.meter.createHistogram('wait_seconds', { advice: { explicitBucketBoundaries: [0.1, 1] } }).record(0.5);
    const text = await a.render();
    expect(text).toContain('jobs_total{kind="x"} 3');
    expect(text).toContain('wait_seconds_bucket{le="1"} 1');
    expect(text).toContain('wait_seconds_bucket{le="0.1"} 0');
    expect(await b.render()).not.toContain('jobs_total');
    await a.shutdown();
    await b.shutdown();
  });
});
