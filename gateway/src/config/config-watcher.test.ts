import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { createLogger } from '@switchyard/observability/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigWatcher } from './config-watcher.ts';

const fleetYaml = (weightV2: number) => `version: 1
models:
  m:
    stable: v1
    variants:
      - { name: v1, version: 1, weight: ${100 - weightV2}, upstreams: ['http://127.0.0.1:1'] }
      - { name: v2, version: 2, weight: ${weightV2}, upstreams: ['http://127.0.0.1:2'] }
`;

/** A ConfigMap volume as kubelet lays it out: `file -> ..data/file`, `..data -> ..<timestamp>`. */
class ConfigMapVolume {
  #generation = 0;
  constructor(readonly dir: string) {}

  async write(content: string): Promise<void> {
    const folder = `..2026_11_25_00_00_0${++this.#generation}`;
    await mkdir(join(this.dir, folder));
    await writeFile(join(this.dir, folder, 'switchyard.yaml'), content);
    if (this.#generation === 1) {
      await symlink(folder, join(this.dir, '..data'));
      await symlink('..data/switchyard.yaml', join(this.dir, 'switchyard.yaml'));
      return;
    }
    // kubelet's atomic writer: a new link beside the old one, renamed over it, then the old folder removed.
    await symlink(folder, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    await rm(join(this.dir, `..2026_11_25_00_00_0${this.#generation - 1}`), { recursive: true });
  }
}

describe('config watcher', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function watched() {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-configmap-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const volume = new ConfigMapVolume(dir);
    await volume.write(fleetYaml(10));
    const applied: FleetConfig[] = [];
    const refused: string[] = [];
    let notify: () => void = () => undefined;
    const next = () => new Promise<void>((resolve) => { notify = resolve; });
    const logger = createLogger({
      service: 'test',
      level: 'info',
      destination: { write: (line: string) => { if ((JSON.parse(line) as { msg: string }).msg.includes('refused')) { refused.push(line); notify(); } } },
    });
    const watcher = new ConfigWatcher({ path: join(dir, 'switchyard.yaml'), logger, debounceMs: 10, apply: (config) => { applied.push(config); notify(); } });
    watcher.start();
    cleanup.push(() => watcher.stop());
    return { volume, applied, refused, next };
  }

  const weightOfV2 = (config: FleetConfig | undefined) => config?.models.m?.variants[1]?.weight;

  it('reloads when kubelet swaps the ..data symlink of a ConfigMap volume', async () => {
    const { volume, applied, next } = await watched();
    const reloaded = next();
    await volume.write(fleetYaml(50));
    await reloaded;
    expect(weightOfV2(applied.at(-1))).toBe(50);

    const again = next();
    await volume.write(fleetYaml(75));
    await again;
    expect(weightOfV2(applied.at(-1))).toBe(75);
  });

  it('keeps the previous config when the swapped-in file is invalid', async () => {
    const { volume, applied, refused, next } = await watched();
    const logged = next();
    await volume.write(fleetYaml(150));
    await logged;
    expect(refused).toHaveLength(1);
    expect(applied).toEqual([]);
  });
});
