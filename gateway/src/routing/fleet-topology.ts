/**
 * The fleet as routing sees it: per model, its variants and the upstream
 * replicas that serve each, built from the config and the shared upstream
 * registry.
 */
import { variantUpstreams, type FleetConfig } from '@switchyard/fleet-config/schema';
import type { Upstream, UpstreamRegistry } from '../upstream/upstream-pool.ts';

export interface VariantRoute {
  name: string;
  version: number;
  upstreams: readonly Upstream[];
  /** The edge worker in front of this variant (its own, or the model's). */
  edgeWorker?: string;
}

export interface ModelRoute {
  name: string;
  stable: string;
  variants: ReadonlyMap<string, VariantRoute>;
  shadow?: { variant: string; percent: number };
}

export type FleetTopology = ReadonlyMap<string, ModelRoute>;

export function buildTopology(config: FleetConfig, registry: UpstreamRegistry): FleetTopology {
  const topology = new Map<string, ModelRoute>();
  for (const [name, model] of Object.entries(config.models)) {
    const variants = new Map<string, VariantRoute>();
    for (const v of model.variants) {
      const edgeWorker = v.edge_worker ?? model.edge_worker;
      variants.set(v.name, { name: v.name, version: v.version, upstreams: variantUpstreams(v).map((url) => registry.get(url)), ...(edgeWorker ? { edgeWorker } : {}) });
    }
    topology.set(name, { name, stable: model.stable, variants, ...(model.shadow ? { shadow: model.shadow } : {}) });
  }
  return topology;
}

/** Every upstream URL the topology uses. */
export function topologyUrls(topology: FleetTopology): Set<string> {
  const urls = new Set<string>();
  for (const model of topology.values()) for (const v of model.variants.values()) for (const u of v.upstreams) urls.add(u.url);
  return urls;
}

/** A model is servable when some variant has an upstream not known to be down. */
export function modelReachable(model: ModelRoute): boolean {
  for (const v of model.variants.values()) if (v.upstreams.some((u) => u.healthy === true)) return true;
  return false;
}
