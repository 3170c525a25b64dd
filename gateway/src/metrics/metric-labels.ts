/**
 * Label values the gateway's metrics may carry: only names from the fleet
 * config (models, variants, policies, upstreams), `unknown` for anything
 * else. A request path, a flag written through the admin API or a probe
 * cannot create new series.
 */
import type { FleetTopology } from '../routing/fleet-topology.ts';

export const UNKNOWN = 'unknown';
/** The variant label of a request that was never routed (rejected before routing). */
export const NO_VARIANT = 'none';

export interface ModelNames {
  stable: string;
  variants: readonly string[];
  shadow?: string;
  /** Upstream URL → variant serving it. */
  upstreams: ReadonlyMap<string, string>;
}

export class MetricLabels {
  readonly #models = new Map<string, ModelNames>();
  readonly #upstreams = new Map<string, { model: string; variant: string }>();
  readonly #policies = new Set<string>();

  constructor(topology: FleetTopology = new Map(), policies: readonly string[] = []) {
    for (const m of topology.values()) {
      const upstreams = new Map<string, string>();
      for (const v of m.variants.values()) {
        for (const u of v.upstreams) {
          upstreams.set(u.url, v.name);
          this.#upstreams.set(u.url, { model: m.name, variant: v.name });
        }
      }
      this.#models.set(m.name, { stable: m.stable, variants: [...m.variants.keys()], ...(m.shadow ? { shadow: m.shadow.variant } : {}), upstreams });
    }
    for (const p of policies) this.#policies.add(p);
  }

  get models(): ReadonlyMap<string, ModelNames> {
    return this.#models;
  }

  get policies(): Iterable<string> {
    return this.#policies;
  }

  model(name: string | undefined): string {
    return name !== undefined && this.#models.has(name) ? name : UNKNOWN;
  }

  /** The variant label for a configured model; `none` when there is no variant, `unknown` when it is not configured. */
  variant(model: string, name: string | undefined): string {
    if (name === undefined) return NO_VARIANT;
    return this.#models.get(model)?.variants.includes(name) ? name : UNKNOWN;
  }

  policy(name: string): string {
    return this.#policies.has(name) ? name : UNKNOWN;
  }

  /** Labels for a configured upstream; undefined for a URL the config does not name. */
  upstream(url: string): { upstream: string; model: string; variant: string } | undefined {
    const known = this.#upstreams.get(url);
    return known ? { upstream: url, ...known } : undefined;
  }
}
