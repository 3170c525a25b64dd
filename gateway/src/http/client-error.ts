/**
 * Refusals that happen before a request reaches the app, answered like
 * every other refusal: a status and `{"error": "..."}`. Node's HTTP parser
 * refuses oversized headers and malformed requests through `clientError`
 * (by default an empty 400); and Node silently keeps only the first
 * thousand or so headers, which can drop `Host` and earn another empty 400. This module counts headers itself and checks `Host`, so both are
 * refused in JSON too.
 *
 * Node-only (sockets): the gateway's entry serves with
 * `serve({ ..., createServer: createGatewayHttpServer })`.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** More request headers than this is a 431. */
export const MAX_REQUEST_HEADERS = 1000;

function json(status: number, message: string): { head: string; body: string } {
  const body = JSON.stringify({ error: message });
  const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  return {
    head: `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`,
    body,
  };
}

/** What a parser error means for the client. */
export function refusalFor(error: Error & { code?: string }): { status: number; message: string } | undefined {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined; // the client is gone; nobody to answer
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'request headers too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return { status: 408, message: 'request not received in time' };
    default:
      return { status: 400, message: `malformed HTTP request${error.code?.startsWith('HPE_') ? ` (${error.code.slice(4).toLowerCase().replaceAll('_', ' ')})` : ''}` };
  }
}

/** A `clientError` listener: answers parser refusals in JSON, then closes the connection. */
export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  const refusal = refusalFor(error);
  // Once a response has started on this connection, a second one would corrupt it.
  const started = (error as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!refusal || !socket.writable || started) {
    socket.destroy();
    return;
  }
  const { head, body } = json(refusal.status, refusal.message);
  socket.end(head + body);
}

/** Wraps the app's listener: too many headers is a 431, a missing `Host` a 400, both in JSON. */
export function guardRequests(listener: RequestListener): RequestListener {
  return function guardedRequest(req: IncomingMessage, res: ServerResponse) {
    const count = req.rawHeaders.length / 2;
    if (count > MAX_REQUEST_HEADERS) return refuse(req, res, 431, `too many request headers (${count}; at most ${MAX_REQUEST_HEADERS})`);
    if (req.httpVersion === '1.1' && req.headers.host === undefined) return refuse(req, res, 400, 'missing Host header');
    listener(req, res);
  };
}

function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
  req.resume();
}

/**
 * `node:http`'s `createServer` for the gateway: headers counted by
 * `guardRequests` rather than truncated by Node, `Host` checked there, and
 * parser refusals answered by `handleClientError`.
 */
export const createGatewayHttpServer = ((options: ServerOptions = {}, listener?: RequestListener): Server => {
  const server = createServer({ ...options, requireHostHeader: false }, listener && guardRequests(listener));
  // Keep every header (their total size is still bounded by the parser): guardRequests counts them.
  server.maxHeadersCount = 0;
  server.on('clientError', handleClientError);
  return server;
  // Typed as node:http's (overloaded) createServer so that @hono/node-server's `createServer` option accepts it.
}) as typeof createServer;
