#!/usr/bin/env node
/**
 * `npm run mesh -- render [--config switchyard.yaml] [--out mesh]
 * [--namespace N] [--trust-domain D] [--cluster-domain D]`: writes the
 * kustomize base, component and overlays for the fleet (the flags override
 * the config's `mesh:` section). Then `kubectl apply -k <out>/overlays/<env>`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { renderFleet } from './render-fleet.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const USAGE = 'usage: npm run mesh -- render [--config switchyard.yaml] [--out mesh] [--namespace N] [--trust-domain D] [--cluster-domain D]';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string' },
    out: { type: 'string' },
    namespace: { type: 'string' },
    'trust-domain': { type: 'string' },
    'cluster-domain': { type: 'string' },
  },
});
if (positionals[0] !== 'render') {
  console.error(USAGE);
  process.exit(2);
}
try {
  const config = await loadFleetConfig(resolve(values.config ?? join(ROOT, 'switchyard.yaml')));
  const out = resolve(values.out ?? join(ROOT, 'mesh'));
  const mesh = {
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(values['trust-domain'] ? { trust_domain: values['trust-domain'] } : {}),
    ...(values['cluster-domain'] ? { cluster_domain: values['cluster-domain'] } : {}),
  };
  for (const [file, content] of renderFleet(config, { mesh })) {
    const path = join(out, file);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    console.log(`wrote ${path}`);
  }
} catch (error) {
  console.error(`switchyard-mesh: ${(error as Error).message}`);
  process.exit(1);
}
