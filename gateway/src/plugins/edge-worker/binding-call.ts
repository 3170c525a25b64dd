/**
 * The first step of a model-binding call from an edge worker: restores the
 * gateway request it belongs to (request id, principal, the variant already
 * chosen, body limit) into a fresh context, so the shadow and proxy plugins
 * run for that variant exactly as they would without an edge worker. The
 * path must name the routed model; another model is a 403.
 */
import type { RuntimeBindings } from '@switchyard/observability/runtime-bindings';
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../http/gateway-error.ts';
import { modelAddress } from '../../model-path.ts';
import type { EdgeCall } from './index.ts';

/** What a binding call's pipeline gets as `c.env`: the call, and the host's bindings for its HTTP request. */
export type BindingCallEnv = RuntimeBindings & { edgeCall: EdgeCall };

export function bindingCallEnv(call: EdgeCall, bindings: RuntimeBindings | undefined): BindingCallEnv {
  if (!bindings) return { edgeCall: call };
  // Methods called through this object, not copied off: a host's bindings may keep private state.
  return {
    edgeCall: call,
    ...(bindings.readBody ? { readBody: () => bindings.readBody?.() } : {}),
    ...(bindings.headers ? { headers: () => bindings.headers?.() ?? {} } : {}),
    ...(bindings.clientGone ? { clientGone: () => bindings.clientGone?.() ?? false } : {}),
  };
}

export function bindingCall(): MiddlewareHandler {
  return async function bindingCallMiddleware(c, next) {
    const call = (c.env as Partial<BindingCallEnv> | undefined)?.edgeCall;
    if (!call) throw new GatewayError(403, 'not a model-binding call');
    const address = modelAddress(c.req.path);
    if (!address) throw new GatewayError(404, `env.MODEL cannot call ${c.req.path}: use /v2/models/${call.route.model.name}/infer or /v1/models/${call.route.model.name}:predict`);
    if (address.model !== call.route.model.name) throw new GatewayError(403, `env.MODEL calls only the routed model '${call.route.model.name}', not '${address.model}'`);
    c.set('requestId', call.requestId);
    c.set('modelAddress', address);
    c.set('route', call.route);
    c.set('bodyLimit', call.bodyLimit);
    if (call.principal) c.set('principal', call.principal);
    await next();
  };
}
