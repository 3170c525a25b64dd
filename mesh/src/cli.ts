#!/usr/bin/env node
/**
 * `npm run mesh -- render [--config switchyard.yaml] [--out mesh]`: writes
 * the kustomize base and overlays for the fleet. Then
 * `kubectl apply -k mesh/overlays/<env>`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { renderFleet } from './render-fleet.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { config: { type: 'string' }, out: { type: 'string' } } });
if (positionals[0] !== 'render') {
  console.error('usage: npm run mesh -- render [--config switchyard.yaml] [--out mesh]');
  process.exit(2);
}
try {
  const config = await loadFleetConfig(resolve(values.config ?? join(ROOT, 'switchyard.yaml')));
  const out = resolve(values.out ?? join(ROOT, 'mesh'));
  for (const [file, content] of renderFleet(config)) {
    const path = join(out, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    console.log(`wrote ${path}`);
  }
} catch (error) {
  console.error(`switchyard-mesh: ${(error as Error).message}`);
  process.exit(1);
}
