/**
 * A replica that is up but frozen: it passes health checks and accepts
 * inference requests, then never answers them (a worker stuck mid-run, as
 * SIGSTOP leaves it once the health checker last saw it well).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FrozenUpstream {
  url: string;
  /** Inference requests that reached it. */
  received: () => number;
  close(): Promise<void>;
}

export async function startFrozenUpstream(): Promise<FrozenUpstream> {
  let received = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === '/v2/health/ready') {
      res.end();
      return;
    }
    received++;
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
