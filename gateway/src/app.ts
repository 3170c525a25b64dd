/**
 * The gateway as a Web-standard fetch handler (Hono). This is the one place
 * where the plugin pipeline is assembled from the fleet config:
 * request id → server span → accounting → model address → body limit →
 * auth → rate limit → route → edge worker → shadow → proxy. An edge
 * worker's `env.MODEL` calls re-enter at shadow → proxy (`modelCall`).
 * Node-specific concerns live in `server.ts`.
 */
import type { Logger } from '@switchyard/observability/logger';
import { PROMETHEUS_CONTENT_TYPE, type MetricsRegistry } from '@switchyard/observability/metrics';
import { serverSpan } from '@switchyard/observability/tracing';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { CLIENT_CLOSED_REQUEST, ClientClosedRequest, clientGone } from './http/client-closed.ts';
import { GatewayError } from './http/gateway-error.ts';
import type { GatewayMetrics } from './metrics/gateway-metrics.ts';
import { addressModel, modelOf, upstreamPath, versionOf } from './model-path.ts';
import { auth } from './plugins/auth/index.ts';
import type { EdgeWorkers } from './edge/edge-workers.ts';
import { bodyLimit } from './plugins/body-limit/index.ts';
import { modelMetadata } from './plugins/model-metadata/index.ts';
import { bindingCall, bindingCallEnv } from './plugins/edge-worker/binding-call.ts';
import { edgeWorker, type EdgeObserver } from './plugins/edge-worker/index.ts';
import { proxy, type UpstreamOutcomes } from './plugins/proxy/index.ts';
import type { RateLimitStore } from './plugins/rate-limit/gcra.ts';
import { rateLimit } from './plugins/rate-limit/index.ts';
import { requestId } from './plugins/request-id/index.ts';
import { route } from './plugins/route/index.ts';
import { shadow } from './plugins/shadow/index.ts';
import { buildTopology, modelReachable, type FleetTopology } from './routing/fleet-topology.ts';
import { repositoryIndex } from './routing/repository-index.ts';
import { configResolver, type VariantResolver } from './routing/variant-resolver.ts';
import type { UpstreamRegistry } from './upstream/upstream-pool.ts';

/** Long-lived resources shared by every app built from successive configs. */
export interface GatewayRuntime {
  registry: UpstreamRegistry;
  rateLimitStore: RateLimitStore;
  /** Per-replica store for when `rateLimitStore` (Redis) fails. */
  fallbackStore?: RateLimitStore;
  logger: Logger;
  metrics: MetricsRegistry;
  gatewayMetrics: GatewayMetrics;
  /** Decides split traffic; default: the config's weights. With flags: the OpenFeature resolver. */
  resolver?: (config: FleetConfig) => VariantResolver;
  /** The flag store's health, reported in readiness details. */
  flagStatus?: () => { connected: boolean; lastSyncAt: number };
  /** Per-variant upstream outcomes, for rollout guards and the admin API (`VariantStats`). */
  stats?: UpstreamOutcomes;
  serverVersion: string;
  /** False while the gateway drains. */
  accepting: () => boolean;
  /** The edge workers' processes and model binding; required when the config names edge workers. */
  edge?: EdgeWorkers;
  edgeObserver?: EdgeObserver;
}

/** Triton protocol extensions served through the gateway (the workers implement them; the gateway forwards). */
export const SUPPORTED_EXTENSIONS = ['binary_tensor_data', 'classification', 'model_configuration', 'statistics', 'model_repository'] as const;

export interface GatewayApp {
  app: Hono;
  topology: FleetTopology;
}

export function createGatewayApp(config: FleetConfig, runtime: GatewayRuntime): GatewayApp {
  const { registry, rateLimitStore, fallbackStore, logger, metrics, gatewayMetrics, serverVersion, accepting } = runtime;
  const topology = buildTopology(config, registry);
  const resolver = runtime.resolver?.(config) ?? configResolver(config);
  const app = new Hono();

  app.use(requestId());
  app.use(serverSpan({ tracerName: 'switchyard-gateway' }));
  const renderError = function renderError(error: Error, c: Context): Response {
    // Nobody is left to read it; the status is for metrics and logs.
    if (error instanceof ClientClosedRequest) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    if (error instanceof GatewayError) return c.json({ error: error.message }, error.status, error.headers);
    if (error instanceof HTTPException) return c.json({ error: error.message || 'request failed' }, error.status);
    logger.error({ err: error, path: c.req.path, request_id: c.get('requestId') }, 'unhandled error');
    return c.json({ error: 'internal error' }, 500);
  };
  app.onError(renderError);
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.get('/v2', (c) => c.json({ name: 'switchyard-gateway', version: serverVersion, extensions: SUPPORTED_EXTENSIONS }));
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => {
    // Ready means "this replica can serve traffic". A model without a healthy upstream is
    // reported here and is unready on its own `/v2/models/{m}/ready`, but does not take
    // the other models' traffic away from this replica.
    const unreachable = [...topology.values()].filter((m) => !modelReachable(m)).map((m) => m.name);
    const flags = runtime.flagStatus?.();
    // Stale flags do not make a replica unready: it keeps serving what it last knew.
    const details = { unreachable_models: unreachable, ...(flags ? { flags: { stale: !flags.connected, last_sync: new Date(flags.lastSyncAt).toISOString() } } : {}) };
    if (accepting()) return c.json({ ready: true, ...details });
    return c.json({ ready: false, draining: true, ...details }, 503);
  });
  app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE }));

  gatewayMetrics.configure(topology, config.rate_limits.policies.map((p) => p.name));

  /** Counts, times and logs every model request; inference requests also count toward the variant that answered them. */
  const accounting = (inference: boolean): MiddlewareHandler =>
    async function accounting(c: Context, next) {
      const started = performance.now();
      try {
        await next();
      } finally {
        const seconds = (performance.now() - started) / 1000;
        // A client that left is its own outcome, whatever the pipeline had got to.
        const status = clientGone(c) ? CLIENT_CLOSED_REQUEST : c.res.status;
        const decision = c.get('route');
        const model = decision?.model.name ?? modelOf(c) ?? 'unknown';
        const variant = decision?.variant.name ?? 'none';
        gatewayMetrics.request(model, variant, status, seconds);
        if (decision) {
          if (inference) gatewayMetrics.variantAnswered(model, variant, status, seconds);
          if (decision.flagReason) gatewayMetrics.flagEvaluated(model, decision.variant.name, decision.flagReason);
        }
        const line = { request_id: c.get('requestId'), model, variant, status, duration_ms: Math.round(seconds * 1e6) / 1e3, subject: c.get('principal')?.subject };
        if (status >= 500) logger.warn(line, 'request failed');
        else if (status === CLIENT_CLOSED_REQUEST) logger.info(line, 'client closed request');
        else logger.info(line, 'request served');
      }
    };

  const authenticate = auth({ apiKeys: config.auth.api_keys, ...(config.auth.jwt ? { jwt: config.auth.jwt } : {}), modelOf });
  const limit = rateLimit({
    policies: config.rate_limits.policies,
    store: rateLimitStore,
    ...(fallbackStore ? { fallback: fallbackStore } : {}),
    onStoreFailure: config.rate_limits.on_redis_failure,
    modelOf,
    observer: gatewayMetrics,
  });
  const routeRequest = route({ topology: () => topology, resolver, userHeader: config.gateway.user_header, modelOf, versionOf });
  const forward = proxy({
    responseTimeoutMs: config.gateway.response_timeout_ms,
    attemptTimeoutMs: config.gateway.attempt_timeout_ms,
    pathFor: upstreamPath,
    observer: gatewayMetrics,
    ...(runtime.stats ? { outcomes: runtime.stats } : {}),
  });
  const mirror = shadow({ pathFor: upstreamPath, observer: gatewayMetrics, logger });
  const limitBody = bodyLimit({ maxBytes: config.gateway.body_limit_bytes });

  const address = addressModel();
  const edgeNames = Object.keys(config.edge_workers);
  if (edgeNames.length > 0 && !runtime.edge) throw new Error(`edge workers ${edgeNames.join(', ')} are configured but the gateway has no edge runtime`);
  // An edge worker's `env.MODEL` calls: the same shadow and proxy, for the variant already routed.
  const modelCall = new Hono();
  modelCall.onError(renderError);
  modelCall.all('*', bindingCall(), mirror, forward);
  // Without edge workers in the config the pipeline has no edge step at all.
  const edgeStep = (worker?: string): MiddlewareHandler[] =>
    runtime.edge && edgeNames.length > 0
      ? [edgeWorker({
          workers: runtime.edge,
          modelCall: async (request, call, bindings) => modelCall.fetch(request, bindingCallEnv(call, bindings)),
          ...(runtime.edgeObserver ? { observer: runtime.edgeObserver } : {}),
          ...(worker ? { worker } : {}),
        })]
      : [];
  const inference = [accounting(true), address, limitBody, authenticate, limit, routeRequest, ...edgeStep(), mirror, forward] as const;
  // Paths owned by a model's edge workers (`routes`), addressed to that model.
  for (const { path, model, edge_worker: worker } of config.routes) {
    const addressRoute: MiddlewareHandler = async function routeAddress(c, next) {
      c.set('modelAddress', { model, suffix: '/infer', protocol: 'v2' });
      await next();
    };
    app.post(path, accounting(true), addressRoute, limitBody, authenticate, limit, routeRequest, ...edgeStep(worker), mirror, forward);
  }
  const metadata = [accounting(false), address, authenticate, routeRequest, forward] as const;
  // `GET /v2/models/stats` (Triton's statistics of every model; gRPC's ModelStatistics without a name) shares
  // its shape with model metadata: it is refused by name rather than routed to a model called "stats".
  const refuseEveryModelStats: MiddlewareHandler = async function refuseEveryModelStats(c, next) {
    if (c.req.path === '/v2/models/stats' && !config.models.stats) {
      throw new GatewayError(400, 'statistics of every model are not served through the gateway: ask for one model, GET /v2/models/{model}/stats (gRPC: ModelStatistics with a name)');
    }
    await next();
  };
  app.post('/v2/models/:model/infer', ...inference);
  app.post('/v2/models/:model/versions/:version/infer', ...inference);
  app.post('/v1/models/:target{.+:predict}', ...inference);
  app.get('/v2/models/:model', accounting(false), address, authenticate, refuseEveryModelStats, routeRequest, modelMetadata(), forward);
  app.get('/v2/models/:model/versions/:version', ...metadata);
  // Readiness, Triton's model configuration and statistics: answered by the routed (or pinned) variant's worker.
  for (const call of ['ready', 'config', 'stats']) {
    app.get(`/v2/models/:model/${call}`, ...metadata);
    app.get(`/v2/models/:model/versions/:version/${call}`, ...metadata);
  }
  // The repository extension's paths, on one route: a named repository's index beside the model control
  // paths would force Hono's slower TrieRouter. One repository: a repository name (gRPC's repository_name)
  // changes nothing.
  const index = repositoryIndex({ topology: () => topology });
  app.post('/v2/repository/:path{.+}', accounting(false), limitBody, authenticate, async function repositoryExtension(c, next) {
    const parts = (c.req.param('path') ?? '').split('/');
    if (parts.at(-1) === 'index' && parts.length <= 2) return index(c, next);
    const [scope, model, action] = parts;
    if (parts.length === 3 && scope === 'models' && (action === 'load' || action === 'unload')) {
      throw new GatewayError(400, `model control is not supported: Switchyard's repository is read-only (${action} of '${model}' refused); models and versions come from switchyard.yaml`);
    }
    throw new GatewayError(404, `no route for ${c.req.method} ${c.req.path}`);
  });

  return { app, topology };
}
