import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const LABELS = ['model', 'variant', 'status'] as const;

/** The exposition lines of one metric family, its name replaced, sorted (series order is not part of the format). */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(name) || l.startsWith(`# HELP ${name}`) || l.startsWith(`# TYPE ${name}`)).map((l) => l.replaceAll(name, 'm')).sort();
}

const measurement = fc.record({
  model: fc.constantFrom('a', 'b'),
  variant: fc.constantFrom('v1', 'v2', 'none'),
  status: fc.constantFrom('200', '404', '503'),
  value: fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constantFrom(0, 0.001, 0.01, 0.1, 1)),
});

describe('fast instruments', () => {
  it('render in /metrics exactly as the SDK instruments do for the same measurements (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(measurement, { minLength: 1, maxLength: 60 }), async (measurements) => {
      const registry = createMetricsRegistry({ service: 't' });
      const sdkCounter = registry.meter.createCounter('sdk_requests', { description: 'd' });
      const sdkHistogram = registry.meter.createHistogram('sdk_seconds', { description: 'h', unit: 's', advice: { explicitBucketBoundaries: BOUNDS } });
      const fastCounter = registry.fast.createCounter('fast_requests', { description: 'd' }, LABELS);
      const fastHistogram = registry.fast.createHistogram('fast_seconds', { description: 'h', unit: 's', boundaries: BOUNDS }, LABELS);
      for (const { value, ...labels } of measurements) {
        sdkCounter.add(value, labels);
        fastCounter.add(value, labels);
        sdkHistogram.record(value, labels);
        fastHistogram.record(value, labels);
      }
      const text = await registry.render();
      expect(family(text, 'fast_requests')).toEqual(family(text, 'sdk_requests'));
      expect(family(text, 'fast_seconds')).toEqual(family(text, 'sdk_seconds'));
      expect(family(text, 'fast_requests').length).toBeGreaterThan(2);
      await registry.shutdown();
    }), { numRuns: 60 });
  });

  it('keys a series by its label values only, whatever order the attributes come in', async () => {
    const registry = createMetricsRegistry({ service: 't' });
    const counter = registry.fast.createCounter('c', { description: 'd' }, LABELS);
    counter.add(1, { model: 'a', variant: 'v1', status: '200' });
    counter.add(2, { status: '200', variant: 'v1', model: 'a' });
    counter.add(-5, { model: 'a', variant: 'v1', status: '200' }); // a counter never goes down
    expect(family(await registry.render(), 'c_total').filter((l) => !l.startsWith('#'))).toEqual(['m{model="a",variant="v1",status="200"} 3']);
  });

  it('refuses a second instrument of the same name', () => {
    const registry = createMetricsRegistry({ service: 't' });
    registry.fast.createCounter('dup', { description: 'd' }, ['a']);
    expect(() => registry.fast.createHistogram('dup', { description: 'd', boundaries: [1] }, ['a'])).toThrow(/already registered/);
  });
});
