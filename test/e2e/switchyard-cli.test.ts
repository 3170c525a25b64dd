import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, FLEET_KEY, inferRequest, startFleet, type Fleet, type Gateway } from '../src/fleet-fixture.ts';

const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));
const SWITCHYARD_CLI = fileURLToPath(new URL('../../gateway/src/cli/switchyard.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../gateway/examples/flags/seed-classifier.json', import.meta.url));

interface FlagView { version: number; state: { stable: string; candidate?: string; weights: Record<string, number>; allow: { subjects: string[] } } }

/**
 * Runs a process to its end without blocking this one: a blocked event loop
 * would miss the gateway closing idle keep-alive connections, and the next
 * admin call would then fail on a socket the other side had closed.
 */
function run(command: string, args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const adminEnv = (gateway: Gateway) => ({ SWITCHYARD_ADMIN_URL: gateway.adminUrl, SWITCHYARD_ADMIN_KEY: FLEET_KEY });

/** The CLI as a user runs it (its own process, talking to the gateway's admin port). */
function switchyard(gateway: Gateway, args: string[]) {
  return run(process.execPath, ['--import', TSX, SWITCHYARD_CLI, ...args], adminEnv(gateway));
}

async function flags(gateway: Gateway): Promise<FlagView> {
  return (await admin(gateway, 'GET', '/admin/flags/seed-classifier')).body as FlagView;
}

const variantOf = async (gateway: Gateway, user: string, headers: Record<string, string> = {}) =>
  (await inferRequest(gateway.url, { 'x-switchyard-user': user, ...headers })).headers.get('x-switchyard-variant');

describe('switchyard CLI against a real gateway', () => {
  let fleet: Fleet;
  let gateway: Gateway;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
    gateway = await fleet.startGateway();
  });
  afterAll(async () => fleet?.close());

  it('prints help with exit 0, and a usage error instead of a stack trace with exit 2', async () => {
    const help = await switchyard(gateway, ['flags', 'set', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: switchyard flags set \[options\] <model> <file>/);
    const wrong = await switchyard(gateway, ['flags', 'get', '--bogus']);
    expect(wrong).toEqual({
      code: 2, stdout: '', stderr: "switchyard: unknown option '--bogus'\nusage: switchyard flags get [options] [model]\nrun 'switchyard flags get --help' for details\n",
    });
  });

  it('round-trips `flags get --json | flags set -` through a shell pipe', async () => {
    const changed = await admin(gateway, 'PUT', '/admin/flags/seed-classifier', {
      state: { stable: 'v1', candidate: 'v2', weights: { v1: 80, v2: 20 }, allow: { subjects: ['vip'], tenants: [] }, kill: false },
    });
    expect(changed.status).toBe(200);
    const before = await flags(gateway);
    const cli = `"${process.execPath}" --import "${TSX}" "${SWITCHYARD_CLI}"`;
    const piped = await run('sh', ['-c', `${cli} flags get seed-classifier --json | ${cli} flags set seed-classifier - --json`], adminEnv(gateway));
    expect({ code: piped.code, stderr: piped.stderr }).toEqual({ code: 0, stderr: '' });
    const after = await flags(gateway);
    expect(JSON.parse(piped.stdout)).toEqual(after);
    expect(after.version).toBe(before.version + 1);
    expect(after.state).toEqual(before.state);
  });

  it("routes by the repository's example flags file once `flags set` has written it", async () => {
    const set = await switchyard(gateway, ['flags', 'set', 'seed-classifier', EXAMPLE]);
    expect({ code: set.code, stderr: set.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await flags(gateway)).state).toMatchObject({ stable: 'v1', candidate: 'v2', weights: { v1: 90, v2: 10 }, allow: { subjects: ['qa-alice', 'qa-bob'] } });
    expect(await variantOf(gateway, 'qa-alice')).toBe('v2');
    // Users the example's 10% split sends to v2 (the split is a fixed hash of the user): its region rule sends them to v1.
    const onCandidate: string[] = [];
    for (let i = 0; i < 60; i++) if ((await variantOf(gateway, `user-${i}`)) === 'v2') onCandidate.push(`user-${i}`);
    expect(onCandidate.length).toBeGreaterThan(0);
    for (const user of onCandidate) expect(await variantOf(gateway, user, { 'x-switchyard-attr-region': 'eu-west' })).toBe('v1');
  });

  it('refuses a rollback after a promotion with the reason and a non-zero exit, changing nothing', async () => {
    expect((await switchyard(gateway, ['flags', 'reset', 'seed-classifier'])).code).toBe(0);
    expect((await switchyard(gateway, ['promote', 'seed-classifier'])).code).toBe(0);
    const promoted = await flags(gateway);
    expect(promoted.state).toMatchObject({ stable: 'v2', weights: { v1: 0, v2: 100 } });
    const refused = await switchyard(gateway, ['rollback', 'seed-classifier']);
    expect(refused).toEqual({
      code: 1, stdout: '', stderr: "switchyard: nothing to roll back: no rollout is running or paused and the stable variant 'v2' already has all traffic (HTTP 409)\n",
    });
    expect((await flags(gateway)).version).toBe(promoted.version);
    expect(await variantOf(gateway, 'after-rollback')).toBe('v2');
  });
});
