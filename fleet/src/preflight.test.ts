import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { afterEach, describe, expect, it } from 'vitest';
import { desiredWorkers, workerChanged } from './desired-services.ts';
import { portConflicts } from './preflight.ts';
import { freePort } from './service-process.ts';
import { describeExit } from './supervisor.ts';

const servers: Server[] = [];
function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('fleet preflight', () => {
  it('passes when every port is free', async () => {
    expect(await portConflicts([{ port: await freePort(), host: '127.0.0.1', owner: 'gateway' }])).toEqual([]);
  });

  it('names a port held by another Switchyard service as another fleet', async () => {
    const port = await listen((_, res) => res.end(JSON.stringify({ name: 'switchyard-gateway', version: '0.1.0' })));
    expect(await portConflicts([{ port, host: '127.0.0.1', owner: 'gateway' }])).toEqual([
      `port ${port} (gateway) is in use by switchyard-gateway: another Switchyard fleet is running — stop it first`,
    ]);
  });

  it('names a port held by anything else', async () => {
    const port = await listen((_, res) => res.end('hello'));
    expect(await portConflicts([{ port, host: '127.0.0.1', owner: 'worker m/v1#0' }])).toEqual([`port ${port} (worker m/v1#0) is already in use on 127.0.0.1`]);
  });
});

describe('desired workers', () => {
  const config = parseFleetConfig({
    version: 1,
    models: {
      m: { stable: 'v1', variants: [{ name: 'v1', version: 1, weight: 50, replicas: 2, port: 9100 }, { name: 'v2', version: 2, weight: 50, upstreams: ['http://elsewhere:1'] }] },
    },
  }, 'test');

  it('runs one worker per local replica on consecutive ports and none for remote upstreams', () => {
    expect(desiredWorkers(config).map((w) => [w.key, w.port, w.version])).toEqual([['m/v1#0', 9100, 1], ['m/v1#1', 9101, 1]]);
  });

  it('replaces a worker whose version or port changed', () => {
    const [w] = desiredWorkers(config);
    if (!w) throw new Error('no worker');
    expect(workerChanged(w, { ...w })).toBe(false);
    expect(workerChanged(w, { ...w, version: 2 })).toBe(true);
    expect(workerChanged(w, { ...w, port: 9200 })).toBe(true);
  });
});

describe('exit descriptions', () => {
  it('names the signal when there is one, the code otherwise', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('signal SIGKILL');
    expect(describeExit(1, null)).toBe('code 1');
  });
});
