/**
 * The route plugin: picks the variant that serves this request. A pinned
 * version (the v2 `versions` path) wins; then the override header, for
 * principals with the `variant:override` scope; otherwise the resolver
 * (config weights or feature flags) decides from an evaluation context:
 * targeting key = the end user named by the user header, or else the
 * authenticated principal; tenant and subject; and request attributes sent
 * as `x-switchyard-attr-<name>` headers.
 */

const ATTRIBUTE_HEADER = 'x-switchyard-attr-';
import { trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { GatewayError } from '../../http/gateway-error.ts';
import { bindingsOf, headerOf } from '@switchyard/observability/runtime-bindings';
import { OVERRIDE_SCOPE, type Principal } from '../../principal.ts';
import type { FleetTopology, ModelRoute, VariantRoute } from '../../routing/fleet-topology.ts';
import type { RolloutContext } from '../../flags/evaluate-rollout.ts';
import type { VariantResolver } from '../../routing/variant-resolver.ts';

export const VARIANT_HEADER = 'x-switchyard-variant';

export interface RouteDecision {
  model: ModelRoute;
  variant: VariantRoute;
  /** Why this variant: `pinned`, `override` or `split` (decided by the resolver). */
  reason: 'pinned' | 'override' | 'split';
  /** The resolver's reason (OpenFeature terms) for split decisions. */
  flagReason?: string;
}

declare module 'hono' {
  interface ContextVariableMap {
    route: RouteDecision;
  }
}

export interface RouteOptions {
  topology: () => FleetTopology;
  resolver: VariantResolver;
  /** Header carrying the end user's id. Default `x-switchyard-user`. */
  userHeader?: string;
  modelOf: (c: Context) => string | undefined;
  /** The version named in the path, if any. */
  versionOf: (c: Context) => string | undefined;
}

export function route(options: RouteOptions): MiddlewareHandler {
  const { topology, resolver, userHeader = 'x-switchyard-user', modelOf, versionOf } = options;

  function contextOf(c: Context, principal: Principal | undefined): RolloutContext {
    const context: RolloutContext = { targetingKey: headerOf(c, userHeader) || principal?.subject || 'anonymous' };
    if (principal) {
      context.subject = principal.subject;
      context.tenant = principal.tenant;
    }
    // The host's plain header object when it passes one (Node: no web Headers built); otherwise the standard Headers.
    const raw = bindingsOf(c)?.headers?.();
    const entries: Iterable<[string, string | string[] | undefined]> = raw ? Object.entries(raw) : c.req.raw.headers.entries();
    for (const [name, value] of entries) {
      if (typeof value === 'string' && name.startsWith(ATTRIBUTE_HEADER) && name.length > ATTRIBUTE_HEADER.length) context[name.slice(ATTRIBUTE_HEADER.length)] = value;
    }
    return context;
  }

  async function choose(c: Context, model: ModelRoute): Promise<RouteDecision> {
    const pinned = versionOf(c);
    if (pinned !== undefined) {
      const variant = [...model.variants.values()].find((v) => String(v.version) === pinned);
      if (!variant) throw new GatewayError(404, `model '${model.name}' has no variant serving version '${pinned}'`);
      return { model, variant, reason: 'pinned' };
    }
    const principal = c.get('principal') as Principal | undefined;
    const requested = headerOf(c, VARIANT_HEADER);
    if (requested !== undefined) {
      if (!principal?.scopes.includes(OVERRIDE_SCOPE)) {
        throw new GatewayError(403, `choosing a variant with ${VARIANT_HEADER} needs the scope ${OVERRIDE_SCOPE}`);
      }
      const variant = model.variants.get(requested);
      if (!variant) throw new GatewayError(400, `model '${model.name}' has no variant '${requested}' (has ${[...model.variants.keys()].join(', ')})`);
      return { model, variant, reason: 'override' };
    }
    const resolution = await resolver.resolve(model.name, model.stable, contextOf(c, principal));
    const variant = model.variants.get(resolution.variant) ?? model.variants.get(model.stable);
    if (!variant) throw new GatewayError(503, `model '${model.name}' has no variant '${resolution.variant}' configured`);
    trace.getActiveSpan()?.addEvent('flag evaluation', {
      'feature_flag.key': `variant.${model.name}`,
      'feature_flag.variant': variant.name,
      'feature_flag.evaluation.reason': resolution.reason,
      ...(resolution.flagVersion !== undefined ? { 'switchyard.flag_version': resolution.flagVersion } : {}),
    });
    return { model, variant, reason: 'split', flagReason: resolution.reason };
  }

  return async function routeMiddleware(c, next) {
    const name = modelOf(c);
    const model = name === undefined ? undefined : topology().get(name);
    if (!model) throw new GatewayError(404, `unknown model '${name ?? ''}'`);
    const decision = await choose(c, model);
    c.set('route', decision);
    trace.getActiveSpan()?.setAttributes({
      'switchyard.model': model.name,
      'switchyard.variant': decision.variant.name,
      'switchyard.model_version': String(decision.variant.version),
      'switchyard.route_reason': decision.reason,
    });
    await next();
    c.res.headers.set(VARIANT_HEADER, c.get('route').variant.name);
  };
}
