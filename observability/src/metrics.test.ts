import { describe, expect, it, vi } from 'vitest';
import { createMetricsRegistry } from './metrics.ts';
import { EVENT_LOOP_BUCKETS_S, foldDelays } from './process-metrics.ts';

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

  it('serves the 0.0.4 text format: no OpenMetrics # UNIT lines, even for instruments with units', async () => {
    const registry = createMetricsRegistry({ service: 'a' });
    registry.meter.createHistogram('wait_seconds', { unit: 's' }).record(0.5);
    const text = await registry.render();
    expect(text).toContain('# TYPE wait_seconds histogram');
    expect(text).not.toMatch(/^# UNIT/m);
    await registry.shutdown();
  });

  it('exposes process_start_time_seconds and the event-loop delay as a histogram, not quantile gauges', async () => {
    const registry = createMetricsRegistry({ service: 'a' });
    // The delay histogram appears once the first second of samples has been folded in.
    const text = await vi.waitFor(async () => {
      const rendered = await registry.render();
      if (!rendered.includes('nodejs_eventloop_delay_seconds_bucket')) throw new Error('no event-loop delay histogram yet');
      return rendered;
    }, { timeout: 10_000, interval: 100 });
    const start = Number(/^process_start_time_seconds (\S+)$/m.exec(text)?.[1]);
    expect(start).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(start).toBeLessThanOrEqual(Date.now() / 1000);
    expect(text).toContain('# TYPE nodejs_eventloop_delay_seconds histogram');
    expect(text).toMatch(/^# TYPE process_cpu_seconds_total counter$/m);
    expect(text).not.toContain('quantile=');
    await registry.shutdown();
  });
});

describe('event-loop delay folding', () => {
  it('counts each native sample once, in the bucket its delay (less the timer resolution) falls in', () => {
    const recorded: number[] = [];
    const ms = 1e6;
    // 100 samples: half 0.5 ms late, up to 99% 20 ms late, the rest 3 s late (resolution 10 ms included in each).
    const native = { count: 100, max: 3010 * ms, percentiles: new Map([[0, 10.5 * ms], [50, 10.5 * ms], [99, 30 * ms], [100, 3010 * ms]]) };
    foldDelays(native, { record: (v: number) => recorded.push(v) }, 10);
    expect(recorded).toHaveLength(100);
    expect(recorded.filter((v) => v === 0.001)).toHaveLength(50);
    expect(recorded.filter((v) => v === 0.025)).toHaveLength(49);
    expect(recorded.filter((v) => v > EVENT_LOOP_BUCKETS_S.at(-1)!)).toEqual([3]);
  });

  it('records nothing when nothing was sampled', () => {
    const recorded: number[] = [];
    foldDelays({ count: 0, max: 0, percentiles: new Map() }, { record: (v: number) => recorded.push(v) });
    expect(recorded).toEqual([]);
  });
});

describe('observable gauges', () => {
  it('show only what was observed at this scrape: a series no longer observed disappears', async () => {
    const registry = createMetricsRegistry({ service: 'a' });
    let observed = true;
    registry.meter.createObservableGauge('guard_ratio').addCallback((result) => {
      if (observed) result.observe(0.5, { variant: 'v2' });
    });
    const counter = registry.meter.createCounter('events');
    counter.add(2);
    expect(await registry.render()).toMatch(/^guard_ratio\{variant="v2"\} 0.5$/m);
    observed = false;
    counter.add(1);
    const text = await registry.render();
    expect(text).not.toContain('guard_ratio{');
    // Counters stay cumulative.
    expect(text).toMatch(/^events_total 3$/m);
    await registry.shutdown();
  });
});
