/**
 * Reads the model and version a gateway route addresses, once per request,
 * and rewrites the path for the worker serving the chosen version. Every
 * plugin reads the address from the typed context (`modelAddress`), so a
 * path is decoded in one place: bad percent-encoding is a 400 there.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { GatewayError } from './http/gateway-error.ts';

const V2_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/.*)?$/;
const V1_PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?:predict$/;

export interface ModelAddress {
  model: string;
  version?: string;
  /** The rest of a v2 path after the model (and version), e.g. `/infer`; `:predict` for v1. */
  suffix: string;
  protocol: 'v1' | 'v2';
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The model (and version) the request path names, decoded. Unset on other routes. */
    modelAddress: ModelAddress;
  }
}

function decode(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GatewayError(400, `the ${what} in the path is not valid percent-encoded UTF-8`);
  }
}

/** The model address of a path; undefined for paths that name no model; a 400 GatewayError for bad encoding. */
export function modelAddress(path: string): ModelAddress | undefined {
  const v2 = V2_PATH.exec(path);
  if (v2?.[1]) {
    const version = v2[2];
    return { model: decode(v2[1], 'model name'), ...(version ? { version: decode(version, 'version') } : {}), suffix: v2[3] ?? '', protocol: 'v2' };
  }
  const v1 = V1_PATH.exec(path);
  if (!v1?.[1]) return undefined;
  const version = v1[2];
  return { model: decode(v1[1], 'model name'), ...(version ? { version: decode(version, 'version') } : {}), suffix: ':predict', protocol: 'v1' };
}

/** Decodes the path's model address once and shares it as `modelAddress`; bad encoding is a 400. */
export function addressModel(): MiddlewareHandler {
  return async function modelAddressMiddleware(c, next) {
    const address = modelAddress(c.req.path);
    if (address) c.set('modelAddress', address);
    await next();
  };
}

export const modelOf = (c: Context): string | undefined => (c.get('modelAddress') as ModelAddress | undefined)?.model;
export const versionOf = (c: Context): string | undefined => (c.get('modelAddress') as ModelAddress | undefined)?.version;

/** The same request addressed to `version` explicitly, as the worker expects it. */
export function upstreamPath(c: Context, version: number): string {
  const address = c.get('modelAddress') as ModelAddress | undefined;
  if (!address) return c.req.path;
  const model = encodeURIComponent(address.model);
  if (address.protocol === 'v1') return `/v1/models/${model}/versions/${version}:predict`;
  return `/v2/models/${model}/versions/${version}${address.suffix}`;
}
