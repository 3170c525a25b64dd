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

function parseObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not JSON: the caller passes the text through.
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function modelMetadata(): MiddlewareHandler {
  return async function modelMetadataMiddleware(c, next) {
    await next();
    if (c.res.status !== 200) return;
    const { model, variant } = c.get('route');
    const text = await bodyText(c.res);
    const headers = new Headers(c.res.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    let body = text;
    const metadata = parseObject(text);
    // An answer that is not a metadata object (no worker sends one) passes through as it came, decoded.
    if (metadata) {
      const parameters = typeof metadata.parameters === 'object' && metadata.parameters !== null ? metadata.parameters : {};
      metadata.versions = reachableVersions(model, variant);
      metadata.parameters = { ...parameters, routed_version: String(variant.version), routed_variant: variant.name };
      body = JSON.stringify(metadata);
      headers.set('content-type', 'application/json');
    }
    // Cleared first: assigning over a response merges the old headers (its length and coding) into the new one.
    c.res = undefined;
    c.res = new Response(body, { status: 200, headers });
  };
}
