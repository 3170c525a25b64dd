import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandFor, serviceRuntimeFrom } from './service-process.ts';

describe('service runtime', () => {
  it('reads SWITCHYARD_RUNTIME: node by default, deno on request, anything else refused with the accepted values', () => {
    expect(serviceRuntimeFrom(undefined)).toBe('node');
    expect(serviceRuntimeFrom('')).toBe('node');
    expect(serviceRuntimeFrom('deno')).toBe('deno');
    expect(() => serviceRuntimeFrom('bun')).toThrow("SWITCHYARD_RUNTIME must be one of node, deno (got 'bun')");
  });

  it('starts a TypeScript entry on Node through tsx and on Deno with deno run -A, the repository deno.json and node_modules as installed', () => {
    const node = commandFor('/srv/gateway/src/server.ts', 'node');
    expect(node.command).toBe(process.execPath);
    expect(node.args[0]).toBe('--import');
    expect(node.args.at(-1)).toBe('/srv/gateway/src/server.ts');

    const deno = commandFor('/srv/gateway/src/server.ts', 'deno');
    expect(existsSync(deno.command)).toBe(true);
    expect(deno.args.slice(0, 2)).toEqual(['run', '-A']);
    const config = deno.args.find((a) => a.startsWith('--config='))?.slice('--config='.length);
    expect(config && existsSync(config)).toBe(true);
    expect(deno.args).toContain('--node-modules-dir=manual');
    expect(deno.args).not.toContain('--conditions=switchyard-dist');
    expect(deno.args.at(-1)).toBe('/srv/gateway/src/server.ts');
  });

  it('resolves compiled entries to the dist builds on both runtimes', () => {
    const node = commandFor('/srv/gateway/dist/server.js', 'node').args;
    expect(node[0]).toBe('--conditions=switchyard-dist');
    // The telemetry register module loads first, from its compiled or source form.
    expect(node.slice(1, 3)).toEqual(['--import', expect.stringMatching(/observability\/(src|dist)\/register\.mjs$/) as unknown]);
    expect(node.at(-1)).toBe('/srv/gateway/dist/server.js');
    expect(commandFor('/srv/gateway/dist/server.js', 'deno').args).toContain('--conditions=switchyard-dist');
  });
});
