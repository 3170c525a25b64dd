/**
 * IETF rate-limit header fields (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "name";q=<quota>;w=<window s>` and
 * `RateLimit: "name";r=<remaining>;t=<seconds to reset>`.
 */
import type { LimitOutcome } from './gcra.ts';

export interface AppliedPolicy {
  name: string;
  rate: number;
  periodSeconds: number;
}

export function policyField(policies: readonly AppliedPolicy[]): string {
  return policies.map((p) => `"${p.name}";q=${p.rate};w=${p.periodSeconds}`).join(', ');
}

export function limitField(policies: readonly AppliedPolicy[], outcomes: readonly LimitOutcome[]): string {
  return policies.map((p, i) => `"${p.name}";r=${outcomes[i]?.remaining ?? 0};t=${Math.ceil((outcomes[i]?.resetMs ?? 0) / 1000)}`).join(', ');
}
