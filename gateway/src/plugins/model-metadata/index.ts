/**
 * The model-metadata plugin, for unpinned `GET /v2/models/{m}` through the
 * gateway. The routed variant's worker knows only its own version, so this
 * rewrites its answer: `versions` lists every version reachable across the
 * model's variants (a variant whose replicas are not all known to be down),
 * and `parameters.routed_version` / `parameters.routed_variant` say which
 * one serves this caller. The standard fields keep their meaning and types.
 */
import type { MiddlewareHandler } from 'hono';
import type { ModelRoute, VariantRoute } from '../../routing/fleet-topology.ts';

function reachableVersions(model: ModelRoute, routed: VariantRoute): string[] {
  const versions = new Set<number>([routed.version]);
  for (const variant of model.variants.values()) if (variant.upstreams.some((u) => u.healthy !== false)) versions.add(variant.version);
  return [...versions].sort((a, b) => a - b).map(String);
}

async function bodyText(res: Response): Promise<string> {
  const coding = res.headers.get('content-encoding')?.trim().toLowerCase();
  if (coding !== 'gzip' && coding !== 'deflate') return res.text();
  return new Response(res.body?.pipeThrough<Uint8Array>(new DecompressionStream(coding))).text();
}

export function modelMetadata(): MiddlewareHandler {
  return async function modelMetadataMiddleware(c, next) {
    await next();
    if (c.res.status !== 200) return;
    const { model, variant } = c.get('route');
    const metadata = JSON.parse(await bodyText(c.res)) as Record<string, unknown>;
    const parameters = typeof metadata.parameters === 'object' && metadata.parameters !== null ? metadata.parameters : {};
    metadata.versions = reachableVersions(model, variant);
    metadata.parameters = { ...parameters, routed_version: String(variant.version), routed_variant: variant.name };
    const headers = new Headers(c.res.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    headers.set('content-type', 'application/json');
    // Cleared first: assigning over a response merges the old headers (its length and coding) into the new one.
    c.res = undefined;
    c.res = new Response(JSON.stringify(metadata), { status: 200, headers });
  };
}
