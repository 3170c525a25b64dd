import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadFleetConfig, parseFleetConfig } from './load-fleet-config.ts';

const variant = { name: 'v1', version: 1, weight: 100, port: 9001 };

describe('fleet config: edge workers and routes', () => {
  it('applies the documented defaults', () => {
    const config = parseFleetConfig({ version: 1, edge_workers: { pre: { module: 'pre.ts' } }, models: { m: { stable: 'v1', edge_worker: 'pre', variants: [variant] } } }, 'test');
    expect(config.edge_workers.pre).toEqual({ module: 'pre.ts', vars: {}, allow_net: [], memory_mb: 128, timeout_ms: 2000, failure: 'fail', isolation: 'process' });
    expect(config.routes).toEqual([]);
  });

  it('takes an endpoint as host:port, and refuses one that is not, or one on an inline worker', () => {
    const parse = (pre: Record<string, unknown>) => parseFleetConfig({ version: 1, edge_workers: { pre: { module: 'pre.ts', ...pre } }, models: { m: { stable: 'v1', variants: [variant] } } }, 'test');
    expect(parse({ endpoint: '127.0.0.1:8100' }).edge_workers.pre?.endpoint).toBe('127.0.0.1:8100');
    expect(() => parse({ endpoint: 'http://127.0.0.1:8100' })).toThrowError(/edge_workers\.pre\.endpoint: must be host:port/);
    expect(() => parse({ endpoint: '127.0.0.1:8100', isolation: 'inline' })).toThrowError(/edge_workers\.pre\.isolation: an inline worker has no endpoint/);
  });

  it('refuses the reserved var MODEL and routes that shadow /v1, /v2 or /metrics', () => {
    expect(() => parseFleetConfig({
      version: 1,
      edge_workers: { pre: { module: 'pre.ts', vars: { MODEL: 'x' } } },
      routes: [{ path: '/v2/x', model: 'm', edge_worker: 'pre' }],
      models: { m: { stable: 'v1', variants: [variant] } },
    }, 'test')).toThrowError(/edge_workers\.pre\.vars\.MODEL: [\s\S]*routes\.0\.path: must not shadow/);
  });

  it('refuses unknown edge workers on models, variants and routes, and a route no edge worker serves', () => {
    expect(() => parseFleetConfig({
      version: 1,
      edge_workers: { pre: { module: 'pre.ts' } },
      routes: [{ path: '/other', model: 'm', edge_worker: 'nope' }, { path: '/predict', model: 'n' }],
      models: { m: { stable: 'v1', edge_worker: 'missing', variants: [{ ...variant, edge_worker: 'gone' }] }, n: { stable: 'v1', variants: [{ ...variant, port: 9002 }] } },
    }, 'test')).toThrowError(/models\.m\.edge_worker: 'missing' is not one of edge_workers[\s\S]*models\.m\.variants\.0\.edge_worker: 'gone'[\s\S]*routes\.0\.edge_worker: 'nope'[\s\S]*routes\.1\.model: every variant of 'n' needs an edge_worker to serve '\/predict'/);
  });

  it('resolves module paths relative to the fleet file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-edge-config-'));
    try {
      await writeFile(join(dir, 'switchyard.yaml'), stringify({ version: 1, edge_workers: { pre: { module: 'edge/pre.ts' } }, models: { m: { stable: 'v1', variants: [variant] } } }));
      expect((await loadFleetConfig(join(dir, 'switchyard.yaml'))).edge_workers.pre?.module).toBe(join(dir, 'edge/pre.ts'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
