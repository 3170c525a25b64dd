/**
 * A model's rollout state, as the flag store holds it: variant weights, who
 * always gets the candidate (allowlist) or the stable variant (denylist),
 * attribute rules, a kill switch, and an optional progressive-delivery plan.
 */
import { z } from 'zod';

const Audience = z
  .object({ subjects: z.array(z.string().min(1)).default([]), tenants: z.array(z.string().min(1)).default([]) })
  .strict()
  .prefault({});

export const RolloutPlanSchema = z
  .object({
    /** Candidate weight per step, ascending, ending at 100. */
    steps: z.array(z.number().min(0).max(100)).min(1).default([5, 25, 50, 100]),
    interval_seconds: z.number().positive().default(60),
    guards: z
      .object({
        /** Candidate share of non-5xx answers must stay at or above this. */
        min_success_rate: z.number().min(0).max(1).default(0.99),
        /** Candidate p99 latency must stay at or below stable p99 × this. */
        max_p99_ratio: z.number().positive().default(1.5),
        /** Requests the candidate must have served in a step before it may advance (or be judged). */
        min_requests: z.number().int().min(1).default(20),
        /** Latency noise tolerated on top of the p99 ratio, in ms. */
        latency_slack_ms: z.number().min(0).default(10),
        /**
         * Distinct callers (authenticated subjects) needed before a guard
         * acts: a success-rate rollback needs 5xx seen by this many, a
         * latency rollback or an advance needs requests from this many.
         * Default 1 (one caller can move a guard); raise it where several
         * callers share the model.
         */
        min_subjects: z.number().int().min(1).default(1),
      })
      .strict()
      .prefault({}),
    status: z.enum(['running', 'paused', 'promoted', 'rolled_back']).default('running'),
    /** Index into `steps` of the current step. */
    step: z.number().int().min(0).default(0),
    /** When the current step began (ms since epoch). */
    step_started_at: z.number().default(0),
    /** Why the plan last changed status (e.g. the guard that failed). */
    reason: z.string().optional(),
  })
  .strict()
  .refine((p) => p.steps.every((s, i) => i === 0 || s > (p.steps[i - 1] ?? -1)), 'steps must be strictly ascending')
  .refine((p) => p.steps.at(-1) === 100, 'the last step must be 100')
  .refine((p) => p.step < p.steps.length, 'step must index into steps');

/** A plan as written by a caller: every field optional, defaults applied on parse. */
export type RolloutPlanInput = z.input<typeof RolloutPlanSchema>;

export const RolloutStateSchema = z
  .object({
    stable: z.string().min(1),
    /** The variant the allowlist and the plan send traffic to. */
    candidate: z.string().min(1).optional(),
    /** Percent per variant; they sum to 100. */
    weights: z.record(z.string(), z.number().min(0).max(100)),
    allow: Audience,
    deny: Audience,
    /** First match wins: a context attribute in `in` sends the request to `variant`. */
    rules: z.array(z.object({ attribute: z.string().min(1), in: z.array(z.string()).min(1), variant: z.string().min(1) }).strict()).default([]),
    /** Everyone to the stable variant. */
    kill: z.boolean().default(false),
    plan: RolloutPlanSchema.optional(),
  })
  .strict()
  .superRefine((state, ctx) => {
    const total = Object.values(state.weights).reduce((a, b) => a + b, 0);
    if (Math.abs(total - 100) > 1e-9) ctx.addIssue({ code: 'custom', path: ['weights'], message: `weights must sum to 100, they sum to ${total}` });
    if (!Object.hasOwn(state.weights, state.stable)) ctx.addIssue({ code: 'custom', path: ['stable'], message: `'${state.stable}' has no weight` });
    if (state.candidate !== undefined && !Object.hasOwn(state.weights, state.candidate)) ctx.addIssue({ code: 'custom', path: ['candidate'], message: `'${state.candidate}' has no weight` });
    const active = state.plan?.status === 'running' || state.plan?.status === 'paused';
    if (active && state.candidate === undefined) ctx.addIssue({ code: 'custom', path: ['plan'], message: 'a running plan needs a candidate' });
    state.rules.forEach((rule, i) => {
      if (!Object.hasOwn(state.weights, rule.variant)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'variant'], message: `'${rule.variant}' has no weight` });
    });
  });

export type RolloutState = z.infer<typeof RolloutStateSchema>;
export type RolloutPlan = z.infer<typeof RolloutPlanSchema>;

/** A stored state: the state plus its version and who set it when. */
export interface StoredRollout {
  state: RolloutState;
  version: number;
  updatedAt: number;
  updatedBy: string;
}

export interface AuditEntry {
  model: string;
  version: number;
  at: number;
  actor: string;
  reason: string;
  old: RolloutState | null;
  new: RolloutState;
}

/** Checks a state against the variants the fleet config declares for the model. */
export function checkVariants(state: RolloutState, variants: readonly string[]): string[] {
  const known = new Set(variants);
  const problems: string[] = [];
  for (const name of Object.keys(state.weights)) if (!known.has(name)) problems.push(`weights: '${name}' is not a variant of this model (${variants.join(', ')})`);
  return problems;
}
