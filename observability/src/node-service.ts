/**
 * Node entry plumbing shared by Switchyard services: serve a Web fetch
 * handler, drain gracefully on SIGTERM/SIGINT, and stop when the
 * supervising parent (the local fleet runner) is gone.
 *
 * Drain: the listening sockets stop accepting, readiness turns 503 (the
 * service's own `drain`), every response from then on carries
 * `Connection: close`, idle keep-alive sockets are left to the keep-alive
 * timeout their clients were told about (closing them at once would reset
 * a request already on its way), and only when every connection has ended
 * are resources released (`close`). A drain that outlives its timeout exits 1.
 */
import { Server as NetServer } from 'node:net';
import { Server, type createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from './logger.ts';

export interface ServeOptions {
  fetch: (request: Request, bindings?: unknown) => Response | Promise<Response>;
  port: number;
  hostname: string;
  logger: Logger;
  /** Log line on listening, e.g. `gateway listening`. */
  listening: string;
  /** Builds the `node:http` server (e.g. one that refuses malformed requests in the service's own error format). */
  createServer?: typeof createHttpServer;
}

/** Listens, and exits the process with a fatal log line when the port cannot be bound. */
export function serveFetch(options: ServeOptions): Promise<Server> {
  const { fetch, port, hostname, logger, listening, createServer } = options;
  return new Promise((resolve) => {
    const server: ServerType = serve({ fetch, port, hostname, ...(createServer ? { createServer } : {}) }, (info) => {
      logger.info({ url: `http://${hostname}:${info.port}`, port: info.port }, listening);
      // The Node adapter serves HTTP/1.1 through node:http unless told otherwise.
      if (server instanceof Server) resolve(server);
    });
    server.on('error', (error: NodeJS.ErrnoException) => {
      logger.fatal({ err: error, port, host: hostname }, error.code === 'EADDRINUSE' ? `port ${port} is already in use` : 'cannot listen');
      process.exit(1);
    });
  });
}

export interface ShutdownOptions {
  logger: Logger;
  servers: Server[];
  /** Hard limit for the whole drain. */
  timeoutMs: number;
  /** Stop taking new work (readiness 503, background loops stopped). */
  drain: () => Promise<void>;
  /** Release resources once no connection remains. */
  close: () => Promise<void>;
}

/**
 * Installs SIGTERM/SIGINT handlers (and, when `SWITCHYARD_EXIT_WITH_PARENT=1`,
 * a watch on stdin, which the fleet runner holds open for its children) that
 * drain once. Returns the shutdown function for other triggers.
 */
export function installShutdown(options: ShutdownOptions, env: NodeJS.ProcessEnv = process.env): (reason: string) => Promise<void> {
  const { logger, servers, timeoutMs, drain, close } = options;
  let draining = false;
  // Responses not yet sent: when the drain starts, each of them (and every later one) says `Connection: close`.
  const unsent = new Set<ServerResponse>();
  const closeAfter = (response: ServerResponse): void => {
    if (!response.headersSent) response.setHeader('connection', 'close');
  };
  for (const server of servers) {
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      if (draining) return closeAfter(response);
      unsent.add(response);
      // 'close' follows 'finish' and also ends a response whose connection broke.
      response.once('close', () => unsent.delete(response));
    });
  }

  async function shutdown(reason: string): Promise<void> {
    if (draining) return;
    draining = true;
    for (const response of unsent) closeAfter(response);
    unsent.clear();
    logger.info({ reason }, 'draining: finishing in-flight requests');
    const forced = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'drain timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    forced.unref();
    await drain();
    // Stop accepting without closing idle keep-alive sockets (http.Server#close would).
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()))));
    await close();
    logger.info({ reason }, 'stopped');
    process.exit(0);
  }

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  if (env.SWITCHYARD_EXIT_WITH_PARENT === '1') {
    // The parent holds the write end of our stdin; it closes however the parent ends (even SIGKILL).
    process.stdin.on('error', () => void shutdown('parent exited'));
    process.stdin.on('end', () => void shutdown('parent exited'));
    process.stdin.on('close', () => void shutdown('parent exited'));
    process.stdin.resume();
  }
  return shutdown;
}
