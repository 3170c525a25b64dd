/**
 * The admin API (its own port, bound to 127.0.0.1 by default): read and
 * change flags, drive rollouts, read the audit history and live
 * per-variant stats. Callers need the `admin` scope. Every change is
 * validated first and written whole, or not at all.
 */
import type { EdgeWorkerStatus } from '../edge/edge-workers.ts';
import { createLogger, type Logger } from '@switchyard/observability/logger';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { FlagStoreUnavailable, VersionConflictError, type FlagStore } from '../flags/flag-store.ts';
import { checkVariants, RolloutStateSchema, type RolloutState, type StoredRollout } from '../flags/rollout-state.ts';
import { stateFromConfig } from '../flags/seed-flags.ts';
import { GatewayError } from '../http/gateway-error.ts';
import { auth } from '../plugins/auth/index.ts';
import { RolloutConflictError, RolloutError, pausePlan, promote, resumePlan, rollback, setKill, startPlan, withCandidateShare } from '../rollout/rollout-operations.ts';
import type { VariantStats } from '../rollout/variant-stats.ts';

export const ADMIN_SCOPE = 'admin';

export interface AdminAppOptions {
  config: () => FleetConfig;
  store: FlagStore;
  stats: VariantStats;
  /** Who leads rollouts, and whether this replica does. */
  leadership: () => Promise<{ holder: string | undefined; self: string }>;
  /** Where refusals for an unavailable store and internal faults are logged. Default: a JSON logger on stdout. */
  logger?: Logger;
  now?: () => number;
  /** The edge workers' processes, for `GET /admin/edge-workers`. */
  edgeWorkers?: () => EdgeWorkerStatus[];
}

function describe(rollout: StoredRollout) {
  return { version: rollout.version, updated_at: new Date(rollout.updatedAt).toISOString(), updated_by: rollout.updatedBy, state: rollout.state };
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    const text = await c.req.text();
    return text === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw new GatewayError(400, 'malformed JSON body');
  }
}

export function createAdminApp(options: AdminAppOptions): Hono {
  const { store, stats, leadership, now = Date.now, logger = createLogger({ service: 'switchyard-gateway' }) } = options;
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof GatewayError) return c.json({ error: error.message }, error.status, error.headers);
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    if (error instanceof RolloutConflictError) return c.json({ error: error.message }, 409);
    if (error instanceof RolloutError) return c.json({ error: error.message }, 400);
    if (error instanceof VersionConflictError) return c.json({ error: `${error.message}; read the flags again and retry` }, 409);
    if (error instanceof z.ZodError) return c.json({ error: issues(error) }, 400);
    const context = { method: c.req.method, path: c.req.path, actor: c.get('principal')?.subject };
    if (error instanceof FlagStoreUnavailable) {
      logger.warn({ ...context, reason: error.message }, 'admin request refused: flag store unavailable');
      return c.json({ error: `${error.message}; nothing was changed, retry shortly` }, 503, { 'Retry-After': '1' });
    }
    logger.error({ ...context, err: error }, 'admin request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  // Rebuilt only when the config changes (a reload), so key sets and JWKS caches persist.
  let authFor: { config: FleetConfig; handler: ReturnType<typeof auth> } | undefined;
  app.use('/admin/*', async (c, next) => {
    const config = options.config();
    if (authFor?.config !== config) {
      authFor = { config, handler: auth({ apiKeys: config.auth.api_keys, ...(config.auth.jwt ? { jwt: config.auth.jwt } : {}), modelOf: () => undefined }) };
    }
    await authFor.handler(c as Parameters<MiddlewareHandler>[0], async () => {
      if (!c.get('principal').scopes.includes(ADMIN_SCOPE)) throw new GatewayError(403, `the admin API needs the scope '${ADMIN_SCOPE}'`);
      await next();
    });
  });

  const actor = (c: Context) => c.get('principal').subject;
  /** The configured model a path names (own properties only: `constructor` is not a model). */
  const specOf = (model: string) => {
    const { models } = options.config();
    const spec = Object.hasOwn(models, model) ? models[model] : undefined;
    if (!spec) throw new GatewayError(404, `unknown model '${model}'`);
    return spec;
  };
  const modelParam = (c: Context) => {
    const model = c.req.param('model') ?? '';
    return { model, variants: specOf(model).variants.map((v) => v.name) };
  };
  const current = (model: string): StoredRollout => {
    const rollout = store.get(model);
    if (!rollout) throw new GatewayError(404, `model '${model}' has no flags yet`);
    return rollout;
  };
  /** Validates against the schema and the configured variants, then writes at the version it was based on. */
  const write = async (c: Context, model: string, variants: string[], base: StoredRollout | undefined, next: RolloutState, reason: string) => {
    const state = RolloutStateSchema.parse(next);
    const problems = checkVariants(state, variants);
    if (problems.length) throw new GatewayError(400, problems.join('; '));
    return c.json(describe(await store.set(model, state, base?.version ?? 0, actor(c), reason)));
  };

  app.get('/admin/status', async (c) => {
    const { holder, self } = await leadership();
    const { connected, lastSyncAt } = store.status();
    return c.json({ flags: { connected, last_sync_at: lastSyncAt }, rollout_lease: { holder: holder ?? null, self } });
  });
  app.get('/admin/edge-workers', (c) => c.json({ edge_workers: options.edgeWorkers?.() ?? [] }));
  app.get('/admin/flags', (c) => c.json(Object.fromEntries(store.models().sort().map((m) => [m, describe(current(m))]))));
  app.get('/admin/flags/:model', (c) => c.json(describe(current(modelParam(c).model))));
  app.put('/admin/flags/:model', async (c) => {
    const { model, variants } = modelParam(c);
    const body = z.object({ state: z.unknown(), expected_version: z.number().int().min(0).optional() }).strict().parse(await jsonBody(c));
    const base = store.get(model);
    if (body.expected_version !== undefined && body.expected_version !== (base?.version ?? 0)) {
      throw new VersionConflictError(`'${model}' is at version ${base?.version ?? 0}, not ${body.expected_version}`);
    }
    return write(c, model, variants, base, RolloutStateSchema.parse(body.state), 'flags set');
  });
  app.post('/admin/flags/:model/kill', async (c) => {
    const { model, variants } = modelParam(c);
    const { on } = z.object({ on: z.boolean() }).strict().parse(await jsonBody(c));
    const base = current(model);
    return write(c, model, variants, base, setKill(base.state, on), on ? 'kill switch on' : 'kill switch off');
  });
  app.post('/admin/flags/:model/reset', async (c) => {
    const { model, variants } = modelParam(c);
    return write(c, model, variants, store.get(model), stateFromConfig(specOf(model)), 'reset to switchyard.yaml');
  });
  app.post('/admin/rollouts/:model/weights', async (c) => {
    const { model, variants } = modelParam(c);
    const base = current(model);
    const body = z.object({ candidate: z.string().optional(), percent: z.number().min(0).max(100) }).strict().parse(await jsonBody(c));
    const candidate = body.candidate ?? base.state.candidate;
    if (!candidate) throw new GatewayError(400, 'name the candidate variant');
    return write(c, model, variants, base, withCandidateShare(base.state, candidate, body.percent), `candidate ${candidate} set to ${body.percent}%`);
  });
  app.post('/admin/rollouts/:model/start', async (c) => {
    const { model, variants } = modelParam(c);
    const base = current(model);
    const body = z.record(z.string(), z.unknown()).parse(await jsonBody(c));
    const { candidate: named, ...plan } = body;
    const candidate = typeof named === 'string' ? named : base.state.candidate;
    if (!candidate) throw new GatewayError(400, 'name the candidate variant');
    // startPlan validates the plan (steps, interval, guards) in full.
    return write(c, model, variants, base, startPlan(base.state, candidate, plan, now()), `rollout of ${candidate} started`);
  });
  const simple = (path: string, change: (state: RolloutState) => RolloutState, reason: string) =>
    app.post(`/admin/rollouts/:model/${path}`, async (c) => {
      const { model, variants } = modelParam(c);
      const base = current(model);
      return write(c, model, variants, base, change(base.state), reason);
    });
  simple('pause', pausePlan, 'rollout paused');
  simple('resume', (s) => resumePlan(s, now()), 'rollout resumed');
  simple('promote', (s) => promote(s, 'promoted by an operator'), 'promoted by an operator');
  simple('rollback', (s) => rollback(s, 'rolled back by an operator'), 'rolled back by an operator');
  app.get('/admin/history/:model', async (c) => {
    const { model } = modelParam(c);
    const limit = Math.min(1000, Math.max(1, Number(c.req.query('limit') ?? 50) || 50));
    return c.json(await store.history(model, limit));
  });
  app.get('/admin/stats', (c) => {
    const since = now() - Math.min(300, Math.max(1, Number(c.req.query('window_seconds') ?? 60) || 60)) * 1000;
    const config = options.config();
    return c.json(Object.fromEntries(Object.entries(config.models).map(([model, spec]) => [
      model,
      Object.fromEntries(spec.variants.map((v) => {
        const { requests, successRate, p50Ms, p99Ms } = stats.summary(model, v.name, since);
        const ms = (x: number) => (Number.isNaN(x) ? null : Math.round(x * 1000) / 1000);
        // Without requests there is no success rate or latency to report: null, not a perfect score.
        return [v.name, { requests, success_rate: requests === 0 ? null : successRate, p50_ms: ms(p50Ms), p99_ms: ms(p99Ms) }];
      })),
    ])));
  });
  return app;
}
