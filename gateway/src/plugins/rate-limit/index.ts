/**
 * The rate-limit plugin: GCRA policies per tenant, API key, subject or
 * model. With a Redis store the limits are global across replicas; when
 * Redis fails, requests are limited per replica by the fallback store
 * (`local`) or refused with 503 (`closed`), and Redis is used again as soon
 * as it answers.
 */
import { trace } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import type { RateLimitPolicyConfig } from '@switchyard/fleet-config/schema';
import { GatewayError } from '../../http/gateway-error.ts';
import { subjectKey, type Principal } from '../../principal.ts';
import type { LimitCheck, LimitOutcome, RateLimitStore } from './gcra.ts';
import { limitField, policyField, type AppliedPolicy } from './headers.ts';

export type RateLimitOutcome = 'allowed' | 'limited' | 'store_failed';

export interface RateLimitObserver {
  decision(policy: string, outcome: RateLimitOutcome): void;
  /** Called on each change between the primary store and the fallback. */
  storeHealth(healthy: boolean, error?: unknown): void;
}

export interface RateLimitOptions {
  policies: readonly RateLimitPolicyConfig[];
  /** The primary store: Redis (global) or in-process. */
  store: RateLimitStore;
  /** Per-replica store used when `store` fails and `onStoreFailure` is `local`; without one a failure is a 503. */
  fallback?: RateLimitStore;
  /** Default `local`. */
  onStoreFailure?: 'local' | 'closed';
  /** The model a request is for, if any. */
  modelOf: (c: Context) => string | undefined;
  observer?: RateLimitObserver;
}

interface CompiledPolicy extends AppliedPolicy {
  per: RateLimitPolicyConfig['per'];
  intervalMs: number;
  burst: number;
  models?: ReadonlySet<string>;
}

function bucketOwner(per: CompiledPolicy['per'], principal: Principal | undefined, model: string | undefined): string | undefined {
  switch (per) {
    case 'tenant':
      return principal?.tenant;
    // Namespaced by credential kind and issuer: a JWT never shares a key's bucket.
    case 'api_key':
      return principal?.identity;
    case 'subject':
      return principal && subjectKey(principal);
    case 'model':
      return model;
  }
}

export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const { store, fallback, onStoreFailure = 'local', modelOf, observer } = options;
  const policies: CompiledPolicy[] = options.policies.map((p) => ({
    name: p.name,
    per: p.per,
    rate: p.rate,
    periodSeconds: p.period_seconds,
    intervalMs: (p.period_seconds * 1000) / p.rate,
    burst: p.burst,
    ...(p.models ? { models: new Set(p.models) } : {}),
  }));
  let storeHealthy = true;

  async function decide(checks: LimitCheck[], names: string[]): Promise<LimitOutcome[]> {
    try {
      const outcomes = await store.check(checks);
      if (!storeHealthy) {
        storeHealthy = true;
        observer?.storeHealth(true);
      }
      return outcomes;
    } catch (error) {
      if (storeHealthy) {
        storeHealthy = false;
        observer?.storeHealth(false, error);
      }
      for (const name of names) observer?.decision(name, 'store_failed');
      if (onStoreFailure === 'closed' || !fallback) {
        throw new GatewayError(503, 'rate limiting is unavailable (store unreachable); retry shortly', { 'Retry-After': '1' });
      }
      return fallback.check(checks);
    }
  }

  return async function rateLimitMiddleware(c, next) {
    const model = modelOf(c);
    const principal = c.get('principal') as Principal | undefined;
    const applied: CompiledPolicy[] = [];
    const checks: LimitCheck[] = [];
    for (const policy of policies) {
      if (policy.models && (!model || !policy.models.has(model))) continue;
      const owner = bucketOwner(policy.per, principal, model);
      if (owner === undefined) continue;
      applied.push(policy);
      checks.push({ key: `rl:${policy.name}:${owner}`, intervalMs: policy.intervalMs, burst: policy.burst });
    }
    if (checks.length === 0) return next();

    const outcomes = await decide(checks, applied.map((p) => p.name));
    const policyHeader = policyField(applied);
    const limitHeader = limitField(applied, outcomes);
    const refused = outcomes.findIndex((o) => !o.allowed);
    applied.forEach((p, i) => observer?.decision(p.name, outcomes[i]?.allowed ? 'allowed' : 'limited'));
    trace.getActiveSpan()?.addEvent('rate limit', {
      'switchyard.rate_limit.policies': applied.map((p) => p.name).join(','),
      'switchyard.rate_limit.outcome': refused >= 0 ? 'limited' : 'allowed',
      'switchyard.rate_limit.remaining': Math.min(...outcomes.map((o) => o.remaining)),
    });
    if (refused >= 0) {
      const outcome = outcomes[refused] as LimitOutcome;
      const retryAfter = Math.max(1, Math.ceil(outcome.retryAfterMs / 1000));
      throw new GatewayError(429, `rate limit '${applied[refused]?.name}' exceeded; retry in ${retryAfter} s`, {
        'Retry-After': String(retryAfter),
        'RateLimit-Policy': policyHeader,
        RateLimit: limitHeader,
      });
    }
    await next();
    c.res.headers.set('RateLimit-Policy', policyHeader);
    c.res.headers.set('RateLimit', limitHeader);
  };
}
