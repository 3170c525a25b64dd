/**
 * An OpenFeature server provider backed by Switchyard's flag store. The
 * string flag `variant.<model>` resolves a request's variant from the
 * model's rollout state and the evaluation context (targeting key = sticky
 * subject, tenant, request attributes). Evaluation reads memory only; while
 * the store is disconnected the reason is STALE.
 */
import {
  ErrorCode, OpenFeatureEventEmitter, ProviderEvents, StandardResolutionReasons,
  type EvaluationContext, type JsonValue, type Provider, type ResolutionDetails,
} from '@openfeature/server-sdk';
import { evaluateRollout, type RolloutContext } from './evaluate-rollout.ts';
import type { FlagStore } from './flag-store.ts';

export const VARIANT_FLAG_PREFIX = 'variant.';

function notFound<T>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
  return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND, errorMessage: `no flag '${flagKey}'` };
}

function rolloutContext(context: EvaluationContext): RolloutContext {
  const ctx: RolloutContext = { targetingKey: context.targetingKey ?? 'anonymous' };
  for (const [key, value] of Object.entries(context)) if (typeof value === 'string') ctx[key] = value;
  return ctx;
}

export class SwitchyardFlagProvider implements Provider {
  readonly metadata = { name: 'switchyard-flags' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly #store: FlagStore;

  constructor(store: FlagStore) {
    this.#store = store;
    store.onChange(({ model }) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: [`${VARIANT_FLAG_PREFIX}${model}`] }));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    if (!flagKey.startsWith(VARIANT_FLAG_PREFIX)) return Promise.resolve(notFound(flagKey, defaultValue));
    const model = flagKey.slice(VARIANT_FLAG_PREFIX.length);
    const rollout = this.#store.get(model);
    if (!rollout) return Promise.resolve(notFound(flagKey, defaultValue));
    const decision = evaluateRollout(model, rollout.state, rolloutContext(context));
    const reason = this.#store.status().connected ? decision.reason : StandardResolutionReasons.STALE;
    return Promise.resolve({ value: decision.variant, variant: decision.variant, reason, flagMetadata: { version: rollout.version, rule: decision.rule } });
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(notFound(flagKey, defaultValue));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return Promise.resolve(notFound(flagKey, defaultValue));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return Promise.resolve(notFound(flagKey, defaultValue));
  }
}
