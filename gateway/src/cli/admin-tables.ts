/**
 * The admin API's answers as the `switchyard` CLI shows them: the answer
 * types (snake_case, exactly as the API sends them and as `--json` prints
 * them) and plain-text tables. An empty value is shown as `—`.
 */

export const EMPTY = '—';

export interface FlagView {
  version: number;
  updated_at: string;
  updated_by: string;
  state: {
    stable: string;
    candidate?: string;
    weights: Record<string, number>;
    kill: boolean;
    plan?: { status: string; step: number; steps: number[]; reason?: string };
  };
}

export interface StatusView {
  flags: { connected: boolean; last_sync_at: number };
  rollout_lease: { holder: string | null; self: string };
}

export interface AuditView {
  version: number;
  at: number;
  actor: string;
  reason: string;
}

/** Per model, per variant; `success_rate` and latencies are null without requests in the window. */
export type StatsView = Record<string, Record<string, { requests: number; success_rate: number | null; p50_ms: number | null; p99_ms: number | null }>>;

type Row = Record<string, string | number>;

export function table(rows: readonly Row[]): string {
  if (rows.length === 0) return '(none)';
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => String(r[c] ?? ''))))].join('\n');
}

function flagRow(model: string, f: FlagView): Row {
  const plan = f.state.plan;
  return {
    model,
    version: f.version,
    stable: f.state.stable,
    candidate: f.state.candidate ?? EMPTY,
    weights: Object.entries(f.state.weights).map(([v, w]) => `${v}=${w}%`).join(' '),
    kill: f.state.kill ? 'ON' : 'off',
    plan: plan ? `${plan.status} ${plan.steps[plan.step] ?? ''}%` : EMPTY,
    'changed by': f.updated_by,
  };
}

export function flagsTable(flags: Readonly<Record<string, FlagView>>): string {
  return table(Object.entries(flags).map(([model, f]) => flagRow(model, f)));
}

export function statusText(flags: Readonly<Record<string, FlagView>>, status: StatusView): string {
  const store = status.flags.connected ? 'connected' : 'STALE (unreachable)';
  return `${flagsTable(flags)}\n\nflag store: ${store}; rollout lease: ${status.rollout_lease.holder ?? 'nobody'}`;
}

export function historyTable(entries: readonly AuditView[]): string {
  return table(entries.map((e) => ({ version: e.version, at: new Date(e.at).toISOString(), by: e.actor, change: e.reason })));
}

export function statsTable(stats: StatsView): string {
  const show = (value: number | null, digits: number) => (value === null ? EMPTY : value.toFixed(digits));
  return table(Object.entries(stats).flatMap(([model, variants]) => Object.entries(variants).map(([variant, s]) => ({
    model,
    variant,
    requests: s.requests,
    success: show(s.success_rate, 3),
    'p50 ms': show(s.p50_ms, 2),
    'p99 ms': show(s.p99_ms, 2),
  }))));
}

/** One entry of `GET /admin/edge-workers`. */
export interface EdgeWorkerView {
  name: string;
  module: string;
  failure: string;
  timeout_ms: number;
  memory_mb: number;
  allow_net: string[];
  endpoint: string | null;
  isolation: string;
  pid: number | null;
  restarts: number;
  inflight: number;
  breaker: string;
}

export function edgeWorkersTable(workers: readonly EdgeWorkerView[]): string {
  if (workers.length === 0) return 'no edge workers configured';
  return table(workers.map((w) => ({
    name: w.name,
    module: w.module,
    isolation: w.endpoint ? `endpoint ${w.endpoint}` : w.isolation,
    failure: w.failure,
    'timeout ms': w.timeout_ms,
    'memory MB': w.memory_mb,
    pid: w.pid ?? EMPTY,
    restarts: w.restarts,
    'in flight': w.inflight,
    breaker: w.breaker,
  })));
}
