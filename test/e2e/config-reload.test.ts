import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { inferRequest, startFleet, type Fleet } from '../src/fleet-fixture.ts';

type Config = { models: Record<string, { variants: Array<{ name: string; weight: number }> }> };

async function setWeights(path: string, v1: number, v2: number): Promise<void> {
  const config = parse(await readFile(path, 'utf8')) as Config;
  const variants = config.models['seed-classifier']?.variants ?? [];
  for (const v of variants) v.weight = v.name === 'v1' ? v1 : v2;
  await writeFile(path, stringify(config));
}

async function variantsSeen(url: string, users = 40): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < users; i++) seen.add((await inferRequest(url, { 'x-switchyard-user': `reload-${i}` })).headers.get('x-switchyard-variant') ?? '');
  return seen;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('fleet config reload (real gateway process)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
  });
  afterAll(async () => fleet?.close());

  it('applies a valid change on file change and on SIGHUP without dropping requests, and keeps the old config when the new one is invalid', async () => {
    const gateway = await fleet.startGateway({ LOG_LEVEL: 'info' });
    expect(await variantsSeen(gateway.url)).toEqual(new Set(['v1', 'v2']));

    // Traffic keeps flowing through every reload below.
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) statuses.push((await inferRequest(gateway.url, { 'x-switchyard-user': `bg-${statuses.length % 9}` })).status);
    })();

    await setWeights(fleet.configPath, 0, 100);
    await eventually(async () => (await variantsSeen(gateway.url, 10)).size === 1 && (await variantsSeen(gateway.url, 10)).has('v2'));

    await writeFile(fleet.configPath, 'version: 1\nmodels: {}\n');
    await eventually(() => Promise.resolve(gateway.lines.some((l) => l.includes('fleet config reload refused'))));
    expect(await variantsSeen(gateway.url, 20)).toEqual(new Set(['v2']));
    const refusal = gateway.lines.find((l) => l.includes('fleet config reload refused')) ?? '';
    expect(refusal).toContain('models: at least one model');

    await fleet.writeConfig();
    await setWeights(fleet.configPath, 100, 0);
    gateway.child.kill('SIGHUP');
    await eventually(async () => (await variantsSeen(gateway.url, 10)).has('v1') && !(await variantsSeen(gateway.url, 10)).has('v2'));
    expect(gateway.lines.some((l) => l.includes('"reason":"SIGHUP"') && l.includes('fleet config reloaded'))).toBe(true);

    stop = true;
    await load;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
