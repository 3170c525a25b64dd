/**
 * Triton's repository index (`POST /v2/repository/index`) answered by the
 * gateway from its topology: one entry per model version a variant serves,
 * READY when some replica of it is not known to be down, listing only the
 * models the caller's scopes allow. Read-only, like the fleet config it
 * comes from.
 */
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../http/gateway-error.ts';
import { readBody } from '../http/read-body.ts';
import { canInfer } from '../principal.ts';
import type { FleetTopology } from './fleet-topology.ts';

export interface RepositoryIndexOptions {
  topology: () => FleetTopology;
}

interface IndexEntry {
  name: string;
  version: string;
  state: 'READY' | 'UNAVAILABLE';
  reason: string;
}

const DEFAULT_LIMIT = 64 * 1024;

export function repositoryIndex({ topology }: RepositoryIndexOptions): MiddlewareHandler {
  return async function repositoryIndexHandler(c) {
    const bytes = await readBody(c, c.get('bodyLimit') ?? DEFAULT_LIMIT);
    let body: unknown = {};
    if (bytes.byteLength > 0) {
      try {
        body = JSON.parse(new TextDecoder().decode(bytes));
      } catch (error) {
        throw new GatewayError(400, `malformed JSON body: ${(error as Error).message}`);
      }
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GatewayError(400, 'repository index body must be a JSON object, e.g. {"ready": true}');
    const ready = (body as { ready?: unknown }).ready;
    if (ready !== undefined && typeof ready !== 'boolean') throw new GatewayError(400, '"ready" must be true or false');
    const principal = c.get('principal');
    const entries: IndexEntry[] = [];
    for (const model of topology().values()) {
      if (!canInfer(principal, model.name)) continue;
      const states = new Map<number, boolean>();
      for (const variant of model.variants.values()) {
        const up = variant.upstreams.some((u) => u.healthy === true);
        states.set(variant.version, (states.get(variant.version) ?? false) || up);
      }
      for (const [version, up] of [...states].sort(([a], [b]) => a - b)) {
        entries.push({ name: model.name, version: String(version), state: up ? 'READY' : 'UNAVAILABLE', reason: up ? '' : 'no healthy replica' });
      }
    }
    return c.json(ready === true ? entries.filter((e) => e.state === 'READY') : entries);
  };
}
