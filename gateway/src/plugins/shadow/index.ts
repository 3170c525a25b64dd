/**
 * The shadow plugin: copies a share of a model's traffic to its shadow
 * variant after the primary answered. The copy is fire-and-forget: it never
 * delays or fails the client's request; its outcome (agreement with the
 * primary, latency) goes to metrics.
 */
import type { MiddlewareHandler } from 'hono';
import type { Context } from 'hono';
import type { Upstream } from '../../upstream/upstream-pool.ts';
import { UPSTREAM_VARIANT_HEADER } from '../proxy/forward-headers.ts';
import { outputsAgree } from './compare-outputs.ts';

export type ShadowOutcome = 'agree' | 'disagree' | 'error';

export interface ShadowObserver {
  shadowed(model: string, variant: string, outcome: ShadowOutcome, seconds: number): void;
}

export interface ShadowOptions {
  /** Upstream path for a version (the same as the proxy's). */
  pathFor: (c: Context, version: number) => string;
  /** Default 5000 ms. */
  timeoutMs?: number;
  random?: () => number;
  observer?: ShadowObserver;
}

export function shadow(options: ShadowOptions): MiddlewareHandler {
  const { pathFor, timeoutMs = 5000, random = Math.random, observer } = options;

  async function mirror(upstream: Upstream, path: string, body: Uint8Array, primary: Promise<unknown>, model: string, variant: string): Promise<void> {
    const started = performance.now();
    let outcome: ShadowOutcome = 'error';
    try {
      const res = await upstream.pool.request({
        path, method: 'POST', body, headers: { 'content-type': 'application/json', 'x-switchyard-shadow': '1', [UPSTREAM_VARIANT_HEADER]: variant },
        headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      const shadowBody: unknown = res.statusCode === 200 ? await res.body.json() : (await res.body.dump(), undefined);
      if (shadowBody !== undefined) outcome = outputsAgree(await primary, shadowBody) ? 'agree' : 'disagree';
    } catch {
      outcome = 'error';
    }
    observer?.shadowed(model, variant, outcome, (performance.now() - started) / 1000);
  }

  return async function shadowMiddleware(c, next) {
    await next();
    const { model, variant } = c.get('route');
    const target = model.shadow && model.variants.get(model.shadow.variant);
    if (target === variant) return;
    const body = c.get('requestBody');
    if (!model.shadow || !target || !body || c.res.status !== 200 || random() * 100 >= model.shadow.percent) return;
    const upstream = target.upstreams.find((u) => u.healthy !== false);
    if (!upstream) return;
    const primary = c.res.clone().json().catch(() => undefined);
    void mirror(upstream, pathFor(c, target.version), body, primary, model.name, target.name);
  };
}
