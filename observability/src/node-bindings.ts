/**
 * A Switchyard service's runtime bindings on Node (see `runtime-bindings.ts`), made
 * by the Node entry from what @hono/node-server passes per request: the
 * node:http request and response. One object per request; the methods live
 * on the prototype.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RuntimeBindings } from './runtime-bindings.ts';

class NodeBindings implements RuntimeBindings {
  readonly #incoming: IncomingMessage;
  readonly #outgoing: ServerResponse;

  constructor(incoming: IncomingMessage, outgoing: ServerResponse) {
    this.#incoming = incoming;
    this.#outgoing = outgoing;
  }

  readBody(): AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined {
    const incoming = this.#incoming;
    // Ended when the adapter already read it into a web Request (someone asked for `c.req.raw.body`).
    if (incoming.readableEnded) return undefined;
    // A small body has usually arrived whole by the time the handler runs: the parser has
    // buffered all of it (`complete`), so it is taken in one read, without a stream iterator.
    // (`read()` without a size returns everything buffered.)
    if (incoming.complete && !incoming.readableFlowing) {
      const whole = incoming.read() as Buffer | null;
      return whole === null ? [] : [whole];
    }
    return incoming as AsyncIterable<Buffer>;
  }

  headers(): Record<string, string | string[] | undefined> {
    return this.#incoming.headers;
  }

  clientGone(): boolean {
    return this.#outgoing.destroyed || this.#outgoing.socket?.destroyed === true;
  }
}

/** Wraps a fetch handler for @hono/node-server so it receives `RuntimeBindings` instead of the adapter's objects. */
export function withNodeBindings(
  fetch: (request: Request, bindings?: RuntimeBindings) => Response | Promise<Response>,
): (request: Request, env?: unknown) => Response | Promise<Response> {
  return function fetchWithNodeBindings(request, env) {
    const node = env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    return fetch(request, node?.incoming && node.outgoing ? new NodeBindings(node.incoming, node.outgoing) : undefined);
  };
}
