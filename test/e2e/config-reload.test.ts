import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../src/eventually.ts';
import { inferRequest, startFleet, type Fleet } from '../src/fleet-fixture.ts';

const NEW_KEY = 'sy_e2e_key_added_by_reload';

describe('fleet config reload (real gateway process)', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
  });
  afterAll(async () => fleet?.close());

  it('applies a valid change on file change and on SIGHUP without dropping requests, and keeps the old config when the new one is invalid', async () => {
    const gateway = await fleet.startGateway({ LOG_LEVEL: 'info' });
    const withNewKey = async () => (await inferRequest(gateway.url, { authorization: `Bearer ${NEW_KEY}` })).status;
    expect(await withNewKey()).toBe(401);

    // Traffic with the original key keeps flowing through every reload below.
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) statuses.push((await inferRequest(gateway.url, { 'x-switchyard-user': `bg-${statuses.length % 9}` })).status);
    })();

    await fleet.writeConfig({ extraKeys: [{ id: 'added', key: NEW_KEY }] });
    await until(async () => (await withNewKey()) === 200);

    await writeFile(fleet.configPath, 'version: 1\nmodels: {}\n');
    await until(() => Promise.resolve(gateway.lines.some((l) => l.includes('fleet config reload refused'))));
    expect(gateway.lines.find((l) => l.includes('fleet config reload refused'))).toContain('models: at least one model');
    expect(await withNewKey()).toBe(200);

    // Back to the original file, and a SIGHUP: either reloads it; the log shows the SIGHUP reload.
    await fleet.writeConfig();
    gateway.child.kill('SIGHUP');
    await until(async () => (await withNewKey()) === 401);
    await until(() => Promise.resolve(gateway.lines.some((l) => l.includes('"reason":"SIGHUP"') && l.includes('fleet config reloaded'))));

    stop = true;
    await load;
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });
});
