/**
 * The route plugin: picks the variant that serves this request. A pinned
 * version (the v2 `versions` path) wins; then the override header, for
 * principals with the `variant:override` scope; otherwise a sticky weighted
 * split on (model, subject), where the subject is the end user named by the
 * user header, or else the authenticated principal.
 */
import { trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { GatewayError } from '../../http/gateway-error.ts';
import { OVERRIDE_SCOPE, type Principal } from '../../principal.ts';
import type { FleetTopology, ModelRoute, VariantRoute } from '../../routing/fleet-topology.ts';
import { bucketOf, pickVariant } from '../../routing/sticky-split.ts';
import type { WeightSource } from '../../routing/weight-source.ts';

export const VARIANT_HEADER = 'x-switchyard-variant';

export interface RouteDecision {
  model: ModelRoute;
  variant: VariantRoute;
  /** Why this variant: `pinned`, `override` or `split`. */
  reason: 'pinned' | 'override' | 'split';
}

declare module 'hono' {
  interface ContextVariableMap {
    route: RouteDecision;
  }
}

export interface RouteOptions {
  topology: () => FleetTopology;
  weights: WeightSource;
  /** Header carrying the end user's id. Default `x-switchyard-user`. */
  userHeader?: string;
  modelOf: (c: Context) => string | undefined;
  /** The version named in the path, if any. */
  versionOf: (c: Context) => string | undefined;
}

export function route(options: RouteOptions): MiddlewareHandler {
  const { topology, weights, userHeader = 'x-switchyard-user', modelOf, versionOf } = options;

  function choose(c: Context, model: ModelRoute): RouteDecision {
    const pinned = versionOf(c);
    if (pinned !== undefined) {
      const variant = [...model.variants.values()].find((v) => String(v.version) === pinned);
      if (!variant) throw new GatewayError(404, `model '${model.name}' has no variant serving version '${pinned}'`);
      return { model, variant, reason: 'pinned' };
    }
    const principal = c.get('principal') as Principal | undefined;
    const requested = c.req.header(VARIANT_HEADER);
    if (requested !== undefined) {
      if (!principal?.scopes.includes(OVERRIDE_SCOPE)) {
        throw new GatewayError(403, `choosing a variant with ${VARIANT_HEADER} needs the scope ${OVERRIDE_SCOPE}`);
      }
      const variant = model.variants.get(requested);
      if (!variant) throw new GatewayError(400, `model '${model.name}' has no variant '${requested}' (has ${[...model.variants.keys()].join(', ')})`);
      return { model, variant, reason: 'override' };
    }
    const split = weights.weights(model.name);
    const subject = c.req.header(userHeader) || principal?.subject || 'anonymous';
    const name = split ? pickVariant(split.variants, split.stable, bucketOf(model.name, subject)) : model.stable;
    const variant = model.variants.get(name) ?? model.variants.get(model.stable);
    if (!variant) throw new GatewayError(503, `model '${model.name}' has no variant '${name}' configured`);
    return { model, variant, reason: 'split' };
  }

  return async function routeMiddleware(c, next) {
    const name = modelOf(c);
    const model = name === undefined ? undefined : topology().get(name);
    if (!model) throw new GatewayError(404, `unknown model '${name ?? ''}'`);
    const decision = choose(c, model);
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
