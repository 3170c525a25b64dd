/**
 * SIGTERM drain of a real gateway process under keep-alive load: every
 * request that reaches it is answered (200, or 503 once draining), never
 * 500 or a reset; answers during the drain carry `Connection: close`; the
 * process exits 0.
 */
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.ts';
import { FLEET_KEY, startFleet, type Fleet } from '../src/fleet-fixture.ts';

const BODY = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });

describe('gateway drain', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
  });
  afterAll(async () => fleet?.close());

  it('answers every request on open keep-alive connections during a SIGTERM drain, with Connection: close, and exits 0', async () => {
    const gateway = await fleet.startGateway();
    const agent = new Agent({ connections: 8, pipelining: 1, keepAliveTimeout: 30_000 });
    const outcomes: Array<{ status: number; connection: string | undefined } | { error: string }> = [];
    let stop = false;
    const client = async (): Promise<void> => {
      while (!stop) {
        try {
          const res = await request(`${gateway.url}/v2/models/seed-classifier/infer`, {
            method: 'POST', dispatcher: agent, body: BODY,
            headers: { authorization: `Bearer ${FLEET_KEY}`, 'content-type': 'application/json' },
          });
          await res.body.text();
          const connection = res.headers.connection;
          outcomes.push({ status: res.statusCode, connection: typeof connection === 'string' ? connection : undefined });
        } catch (error) {
          const code = (error as { code?: string }).code ?? (error as Error).message;
          outcomes.push({ error: code });
          if (code === 'ECONNREFUSED') return; // the listener is closed: nothing reached the gateway
        }
      }
    };
    const clients = Array.from({ length: 8 }, () => client());
    await eventually(() => outcomes.length, (n) => n >= 200, 60_000);
    gateway.child.kill('SIGTERM');
    const code = await gateway.exited;
    stop = true;
    await Promise.all(clients);
    await agent.close();

    expect(code).toBe(0);
    const answered = outcomes.filter((o): o is { status: number; connection: string | undefined } => 'status' in o);
    expect(answered.filter((o) => o.status !== 200 && o.status !== 503)).toEqual([]);
    // Nothing that reached the gateway was reset: the only failures are refused new connections.
    expect(outcomes.filter((o) => 'error' in o && o.error !== 'ECONNREFUSED')).toEqual([]);
    // Once the drain has begun (the first `Connection: close`), every later answer tells the client to go.
    const firstClose = answered.findIndex((o) => o.connection === 'close');
    expect(firstClose).toBeGreaterThanOrEqual(0);
    expect(answered.slice(firstClose).map((o) => o.connection ?? 'keep-alive')).toEqual(answered.slice(firstClose).map(() => 'close'));
    expect(answered.slice(firstClose).length).toBeGreaterThanOrEqual(1);
  });
});
