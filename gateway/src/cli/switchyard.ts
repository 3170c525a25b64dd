#!/usr/bin/env node
/**
 * `npm run switchyard -- <command>`: operate flags and rollouts through a
 * gateway's admin API. Tables by default, `--json` for scripts.
 *
 *   status                                   flags, plans and the rollout lease
 *   rollout <model> --candidate 10% [--variant v2]          set the candidate's share now
 *   rollout <model> --plan 5,25,50,100 [--interval 60] [--variant v2]   start automatic rollout
 *   pause|resume|promote|rollback <model>
 *   flags get [<model>] | flags set <model> <state.json> | flags kill <model> on|off | flags reset <model>
 *   history <model> [--limit 20]
 *   stats [--window 60]
 *
 * Admin API: --url or SWITCHYARD_ADMIN_URL (default http://127.0.0.1:8081);
 * key: --key, SWITCHYARD_ADMIN_KEY, or the local fleet's .switchyard/dev-api-key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdminClient, AdminError } from './admin-client.ts';

interface FlagView {
  version: number;
  updated_at: string;
  updated_by: string;
  state: { stable: string; candidate?: string; weights: Record<string, number>; kill: boolean; plan?: { status: string; step: number; steps: number[]; reason?: string } };
}
interface AuditView { version: number; at: number; actor: string; reason: string }

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean', default: false },
    candidate: { type: 'string' }, variant: { type: 'string' }, plan: { type: 'string' }, interval: { type: 'string' },
    limit: { type: 'string' }, window: { type: 'string' },
  },
});

function table(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '(none)';
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => String(r[c] ?? ''))))].join('\n');
}

function flagRow(model: string, f: FlagView): Record<string, string | number> {
  const plan = f.state.plan;
  return {
    model, version: f.version, stable: f.state.stable, candidate: f.state.candidate ?? '-',
    weights: Object.entries(f.state.weights).map(([v, w]) => `${v}=${w}%`).join(' '),
    kill: f.state.kill ? 'ON' : 'off',
    plan: plan ? `${plan.status} ${plan.steps[plan.step] ?? ''}%` : '-',
    'changed by': f.updated_by,
  };
}

const devKeyPath = '.switchyard/dev-api-key';
const key = values.key ?? process.env.SWITCHYARD_ADMIN_KEY ?? (existsSync(devKeyPath) ? readFileSync(devKeyPath, 'utf8').trim() : undefined);
const client = new AdminClient(values.url ?? process.env.SWITCHYARD_ADMIN_URL ?? 'http://127.0.0.1:8081', key ?? '');
const [command, ...args] = positionals;
const model = args[0] ?? '';
const out = (data: unknown, human: () => string) => console.log(values.json ? JSON.stringify(data, null, 2) : human());
const need = (what: string, value: string | undefined): string => {
  if (!value) throw new AdminError(`missing ${what}; see the usage at the top of gateway/src/cli/switchyard.ts or the README`);
  return value;
};
const flagsOf = (f: FlagView) => table([flagRow(model, f)]);

try {
  if (!key) throw new AdminError('no admin key: pass --key, set SWITCHYARD_ADMIN_KEY, or run the local fleet (npm start)');
  switch (command) {
    case 'status': {
      const [flags, status] = await Promise.all([
        client.call<Record<string, FlagView>>('GET', '/admin/flags'),
        client.call<{ flags: { connected: boolean }; rollout_lease: { holder: string | null } }>('GET', '/admin/status'),
      ]);
      out({ flags, status }, () => `${table(Object.entries(flags).map(([m, f]) => flagRow(m, f)))}\n\nflag store: ${status.flags.connected ? 'connected' : 'STALE (unreachable)'}; rollout lease: ${status.rollout_lease.holder ?? 'nobody'}`);
      break;
    }
    case 'rollout': {
      need('model', args[0]);
      const candidate = values.variant;
      if (values.plan) {
        const steps = values.plan.split(',').map((s) => Number(s.replace('%', '')));
        const body = { ...(candidate ? { candidate } : {}), steps, ...(values.interval ? { interval_seconds: Number(values.interval) } : {}) };
        const f = await client.call<FlagView>('POST', `/admin/rollouts/${model}/start`, body);
        out(f, () => flagsOf(f));
      } else {
        const percent = Number(need('--candidate <percent>', values.candidate).replace('%', ''));
        const f = await client.call<FlagView>('POST', `/admin/rollouts/${model}/weights`, { ...(candidate ? { candidate } : {}), percent });
        out(f, () => flagsOf(f));
      }
      break;
    }
    case 'pause':
    case 'resume':
    case 'promote':
    case 'rollback': {
      const f = await client.call<FlagView>('POST', `/admin/rollouts/${need('model', args[0])}/${command}`);
      out(f, () => flagsOf(f));
      break;
    }
    case 'flags': {
      const [action, name = '', extra] = args;
      if (action === 'get') {
        const data = name ? { [name]: await client.call<FlagView>('GET', `/admin/flags/${name}`) } : await client.call<Record<string, FlagView>>('GET', '/admin/flags');
        out(data, () => table(Object.entries(data).map(([m, f]) => flagRow(m, f))));
      } else if (action === 'set') {
        const state = JSON.parse(readFileSync(need('a state file', extra), 'utf8')) as unknown;
        const f = await client.call<FlagView>('PUT', `/admin/flags/${need('model', name)}`, { state });
        out(f, () => table([flagRow(name, f)]));
      } else if (action === 'reset') {
        const f = await client.call<FlagView>('POST', `/admin/flags/${need('model', name)}/reset`);
        out(f, () => table([flagRow(name, f)]));
      } else if (action === 'kill') {
        const f = await client.call<FlagView>('POST', `/admin/flags/${need('model', name)}/kill`, { on: extra === 'on' });
        out(f, () => table([flagRow(name, f)]));
      } else {
        throw new AdminError('flags: use get, set, kill or reset');
      }
      break;
    }
    case 'history': {
      const entries = await client.call<AuditView[]>('GET', `/admin/history/${need('model', args[0])}?limit=${values.limit ?? 20}`);
      out(entries, () => table(entries.map((e) => ({ version: e.version, at: new Date(e.at).toISOString(), by: e.actor, change: e.reason }))));
      break;
    }
    case 'stats': {
      // Latencies are null without requests in the window.
      const stats = await client.call<Record<string, Record<string, { requests: number; successRate: number; p50Ms: number | null; p99Ms: number | null }>>>('GET', `/admin/stats?window_seconds=${values.window ?? 60}`);
      const ms = (v: number | null) => (v === null ? '-' : v.toFixed(2));
      out(stats, () => table(Object.entries(stats).flatMap(([m, variants]) => Object.entries(variants).map(([v, s]) => ({
        model: m, variant: v, requests: s.requests, success: s.successRate.toFixed(3), 'p50 ms': ms(s.p50Ms), 'p99 ms': ms(s.p99Ms),
      })))));
      break;
    }
    default:
      throw new AdminError(`unknown command '${command ?? ''}'; commands: status, rollout, pause, resume, promote, rollback, flags, history, stats`);
  }
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  process.exit(error instanceof AdminError ? 1 : 2);
}
