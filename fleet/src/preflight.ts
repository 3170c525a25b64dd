/**
 * Checks, before anything starts, that every port the local fleet needs is
 * free. A port in use is named, and when a Switchyard service answers on it
 * the message says another fleet owns it — so a second `npm start` exits
 * without touching the running fleet (or its development key).
 */
import { createServer } from 'node:net';

export interface FleetPort {
  port: number;
  host: string;
  /** What would listen there, e.g. `gateway`, `worker seed-classifier/v1#0`. */
  owner: string;
}

function bindable({ port, host }: FleetPort): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/** The name a Switchyard service reports on `GET /v2`, or undefined. */
async function switchyardServiceAt({ port, host }: FleetPort): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${host}:${port}/v2`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { name?: unknown };
    return typeof body.name === 'string' && body.name.startsWith('switchyard') ? body.name : undefined;
  } catch {
    return undefined; // not HTTP, or not a Switchyard service: the generic message applies
  }
}

/** Resolves with one message per port that cannot be used (empty when all are free). */
export async function portConflicts(ports: readonly FleetPort[]): Promise<string[]> {
  const conflicts: string[] = [];
  for (const wanted of ports) {
    if (await bindable(wanted)) continue;
    const service = await switchyardServiceAt(wanted);
    conflicts.push(
      service
        ? `port ${wanted.port} (${wanted.owner}) is in use by ${service}: another Switchyard fleet is running — stop it first`
        : `port ${wanted.port} (${wanted.owner}) is already in use on ${wanted.host}`,
    );
  }
  return conflicts;
}
