/**
 * The shadow plugin: copies a share of a model's traffic to its shadow
 * variant after the primary answered. The copy is fire-and-forget: it never
 * delays or fails the client's request; its outcome (agreement with the
 * primary, latency) goes to metrics, and a copy that fails is logged once
 * with the reason.
 */
import type { Logger } from '@switchyard/observability/logger';
import type { Context, MiddlewareHandler } from 'hono';
import type { Upstream } from '../../upstream/upstream-pool.ts';
import { UPSTREAM_VARIANT_HEADER } from '../proxy/forward-headers.ts';
import { outputsAgree } from './compare-outputs.ts';
import { readInferOutputs } from './read-infer-response.ts';

/** The copy is framed like the original (JSON or Triton's binary tensors, maybe compressed). */
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
  /** Where failed copies are logged (warn). Default: not logged, only counted. */
  logger?: Logger;
}

interface Copy {
  upstream: Upstream;
  path: string;
  body: Uint8Array;
  /** The original request's framing headers, sent with the copy. */
  headers: Record<string, string>;
  /** A clone of the primary's answer to the client. */
  primary: Response;
  model: string;
  variant: string;
  requestId: string;
}

export function shadow(options: ShadowOptions): MiddlewareHandler {
  const { pathFor, timeoutMs = 5000, random = Math.random, observer, logger } = options;

  async function compare(copy: Copy): Promise<ShadowOutcome> {
    const res = await copy.upstream.pool.request({
      path: copy.path, method: 'POST', body: copy.body,
      headers: { ...copy.headers, 'x-switchyard-shadow': '1', [UPSTREAM_VARIANT_HEADER]: copy.variant },
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      // The primary clone is left unread (cancelling one branch of a tee waits for the client's branch too).
      throw new Error(`shadow variant answered ${res.statusCode}`);
    }
    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
    // JSON or binary-tensor answers, maybe compressed, on either side.
    const shadowOutputs = await readInferOutputs(new Uint8Array(await res.body.arrayBuffer()), responseHeaders);
    const primaryOutputs = await readInferOutputs(new Uint8Array(await copy.primary.arrayBuffer()), copy.primary.headers);
    return outputsAgree(primaryOutputs, shadowOutputs) ? 'agree' : 'disagree';
  }

  async function mirror(copy: Copy): Promise<void> {
    const started = performance.now();
    let outcome: ShadowOutcome;
    try {
      outcome = await compare(copy);
    } catch (error) {
      outcome = 'error';
      logger?.warn({ model: copy.model, variant: copy.variant, upstream: copy.upstream.url, request_id: copy.requestId, reason: (error as Error).message }, 'shadow copy failed');
    }
    observer?.shadowed(copy.model, copy.variant, outcome, (performance.now() - started) / 1000);
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
    const headers: Record<string, string> = {};
    for (const name of BODY_HEADERS) {
      const value = c.req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    void mirror({ upstream, path: pathFor(c, target.version), body, headers, primary: c.res.clone(), model: model.name, variant: target.name, requestId: c.get('requestId') });
  };
}
