/**
 * Flag benchmarks: the cost of evaluating a request's variant in memory
 * (the rollout rules alone, and through the OpenFeature client as the
 * gateway does), and how long a change made on one gateway replica takes to
 * be visible on another (200 changes, shared Redis).
 */
import { randomUUID } from 'node:crypto';
import { evaluateRollout } from '@switchyard/gateway/flags/evaluate-rollout';
import { MemoryFlagStore } from '@switchyard/gateway/flags/memory-flag-store';
import { SwitchyardFlagProvider } from '@switchyard/gateway/flags/openfeature-provider';
import { flagResolver } from '@switchyard/gateway/routing/variant-resolver';
import { OpenFeature } from '@openfeature/server-sdk';
import { admin, startFleet } from '../src/fleet-fixture.ts';
import { summarize, type Measurement } from './measurement.ts';

export interface FlagRow extends Measurement {
  scenario: string;
  concurrency: number;
  /** Mean cost of one evaluation, µs. */
  microsPerOp?: number;
}

const STATE = { stable: 'v1', candidate: 'v2', weights: { v1: 90, v2: 10 }, allow: { subjects: ['vip'], tenants: [] }, deny: { subjects: [], tenants: [] }, rules: [{ attribute: 'region', in: ['eu-west'], variant: 'v2' }], kill: false };

async function evaluationCost(record: (row: FlagRow) => void): Promise<void> {
  const n = 200_000;
  const contexts = Array.from({ length: 1000 }, (_, i) => ({ targetingKey: `user-${i}`, tenant: 'acme', subject: `user-${i}` }));
  let t0 = performance.now();
  for (let i = 0; i < n; i++) evaluateRollout('seed-classifier', STATE, contexts[i % 1000] ?? { targetingKey: 'x' });
  let micros = ((performance.now() - t0) * 1000) / n;
  record({ scenario: 'flag evaluation: rollout rules only', concurrency: 1, rowsPerSecond: 1e6 / micros, p50Ms: NaN, p99Ms: NaN, requests: n, errors: 0, microsPerOp: micros });

  const store = new MemoryFlagStore();
  await store.set('seed-classifier', STATE, 0, 'bench', 'bench');
  const domain = `bench-${randomUUID()}`;
  await OpenFeature.setProviderAndWait(domain, new SwitchyardFlagProvider(store));
  const resolver = flagResolver(OpenFeature.getClient(domain));
  for (let i = 0; i < 10_000; i++) await resolver.resolve('seed-classifier', 'v1', contexts[i % 1000] ?? { targetingKey: 'x' });
  t0 = performance.now();
  for (let i = 0; i < n; i++) await resolver.resolve('seed-classifier', 'v1', contexts[i % 1000] ?? { targetingKey: 'x' });
  micros = ((performance.now() - t0) * 1000) / n;
  record({ scenario: 'flag evaluation: OpenFeature client (gateway path)', concurrency: 1, rowsPerSecond: 1e6 / micros, p50Ms: NaN, p99Ms: NaN, requests: n, errors: 0, microsPerOp: micros });
  await OpenFeature.close();
}

async function propagation(redisUrl: string, record: (row: FlagRow) => void): Promise<void> {
  const fleet = await startFleet({ v1Replicas: 1 });
  try {
    const [a, b] = await Promise.all([fleet.startGateway({ REDIS_URL: redisUrl }), fleet.startGateway({ REDIS_URL: redisUrl })]);
    const delays: number[] = [];
    for (let i = 0; i < 200; i++) {
      const changed = await admin(a, 'POST', '/admin/rollouts/seed-classifier/weights', { candidate: 'v2', percent: i % 2 === 0 ? 20 : 10 });
      const version = (changed.body as { version: number }).version;
      const started = performance.now();
      // Poll the other replica as fast as it answers (~0.3 ms a round trip).
      while (((await admin(b, 'GET', '/admin/flags/seed-classifier')).body as { version: number }).version < version) { /* poll */ }
      delays.push(performance.now() - started);
    }
    record({ scenario: 'flag change propagation A → B (200 changes)', concurrency: 1, ...summarize(200, delays.reduce((x, y) => x + y, 0) / 1000, delays) });
  } finally {
    await fleet.close();
  }
}

export async function benchFlags(redisUrl: string, record: (row: FlagRow) => void): Promise<void> {
  await evaluationCost(record);
  await propagation(redisUrl, record);
}
