/**
 * Reads the model and version a gateway route addresses, and rewrites the
 * path for the worker serving the chosen version.
 */
import type { Context } from 'hono';

const V2_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/.*)?$/;
const V1_PATH = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?:predict$/;

export interface ModelAddress {
  model: string;
  version?: string;
}

export function modelAddress(path: string): ModelAddress | undefined {
  const match = V2_PATH.exec(path) ?? V1_PATH.exec(path);
  if (!match?.[1]) return undefined;
  return { model: decodeURIComponent(match[1]), ...(match[2] ? { version: decodeURIComponent(match[2]) } : {}) };
}

export const modelOf = (c: Context): string | undefined => modelAddress(c.req.path)?.model;
export const versionOf = (c: Context): string | undefined => modelAddress(c.req.path)?.version;

/** The same request addressed to `version` explicitly, as the worker expects it. */
export function upstreamPath(c: Context, version: number): string {
  const path = c.req.path;
  const v1 = V1_PATH.exec(path);
  if (v1) return `/v1/models/${v1[1]}/versions/${version}:predict`;
  const v2 = V2_PATH.exec(path);
  if (v2) return `/v2/models/${v2[1]}/versions/${version}${v2[3] ?? ''}`;
  return path;
}
