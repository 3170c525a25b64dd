/**
 * The shadow plugin: copies a share of a model's traffic to its shadow
 * variant after the primary answered. The copy is fire-and-forget: it never
 * delays or fails the client's request; its outcome (agreement with the
 * primary, latency) goes to metrics.
 */
import type { MiddlewareHandler } from 'hono';
import type { Context } from 'hono';
import type { Upstream } from '../../upstream/upstream-pool.ts';
import { outputsAgree } from './compare-outputs.ts';
import { readInferOutputs } from './read-infer-response.ts';

/** Request headers the copy carries: the body's framing and coding, so binary and compressed bodies read the same. */
const BODY_HEADERS = ['content-type', 'content-encoding', 'inference-header-content-length'] as const;

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

  async function mirror(
    upstream: Upstream, path: string, body: Uint8Array, headers: Record<string, string>,
    primary: Response, model: string, variant: string,
  ): Promise<void> {
    const started = performance.now();
    let outcome: ShadowOutcome = 'error';
    try {
      const res = await upstream.pool.request({ path, method: 'POST', body, headers, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
      if (res.statusCode === 200) {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        const shadowOutputs = await readInferOutputs(new Uint8Array(await res.body.arrayBuffer()), responseHeaders);
        const primaryOutputs = await readInferOutputs(new Uint8Array(await primary.arrayBuffer()), primary.headers);
        outcome = outputsAgree(primaryOutputs, shadowOutputs) ? 'agree' : 'disagree';
      } else {
        await res.body.dump();
        await primary.body?.cancel();
      }
    } catch {
      // A shadow failure of any kind (connection, timeout, unreadable body) is counted as an error outcome, never raised.
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
    const headers: Record<string, string> = { 'x-switchyard-shadow': '1' };
    for (const name of BODY_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    // The copy of the primary answer is read inside mirror(): anything unreadable is an error outcome there, never the client's.
    void mirror(upstream, pathFor(c, target.version), body, headers, c.res.clone(), model.name, target.name);
  };
}
