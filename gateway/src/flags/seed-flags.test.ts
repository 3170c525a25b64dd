import { captureLogs } from '@switchyard/model-worker/testing/worker-harness';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { describe, expect, it } from 'vitest';
import { FlagStoreUnavailable } from './flag-store.ts';
import { MemoryFlagStore } from './memory-flag-store.ts';
import { seedFlagsAndReport } from './seed-flags.ts';

const config = parseFleetConfig(
  { version: 1, models: { m: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 100, port: 9990 }] } } },
  'test',
);

describe('seeding flags from switchyard.yaml', () => {
  it('logs each seeded model, and nothing when there is nothing to seed', async () => {
    const store = new MemoryFlagStore();
    const logs = captureLogs();
    expect(await seedFlagsAndReport(store, config, logs.logger)).toEqual(['m']);
    expect(await seedFlagsAndReport(store, config, logs.logger)).toEqual([]);
    expect(logs.lines.map((l) => [l.level, l.msg, l.model])).toEqual([['info', 'flags seeded from switchyard.yaml', 'm']]);
  });

  it('logs why seeding failed, once, instead of discarding the error', async () => {
    const store = Object.assign(new MemoryFlagStore(), { set: () => Promise.reject(new FlagStoreUnavailable(new Error('Connection is closed.'))) });
    const logs = captureLogs();
    expect(await seedFlagsAndReport(store, config, logs.logger)).toEqual([]);
    expect(logs.lines).toEqual([
      expect.objectContaining({
        level: 'warn', msg: 'could not seed flags from switchyard.yaml; routing uses what the flag store has',
        reason: 'the flag store is unavailable (Connection is closed.)', models: ['m'],
      }),
    ]);
  });
});
