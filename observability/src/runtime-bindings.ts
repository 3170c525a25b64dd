/**
 * What a host may pass as the fetch handler's second argument (Hono's
 * `c.env`): runtime-neutral hooks a service uses when they are there, each
 * with a Web-standard fallback (the request's body stream, headers and abort
 * signal). The Node entry passes them, read from the node:http request and
 * response, which spares building a web `Request` per call; `Deno.serve`,
 * edge hosts and `app.request()` pass none. The app never sees a runtime's
 * own request objects.
 */
import type { Context } from 'hono';

export interface RuntimeBindings {
  /** The request body as chunks, or undefined once it has been read another way. */
  readBody?(): AsyncIterable<Uint8Array> | Iterable<Uint8Array> | undefined;
  /** The request headers as one object with lower-case names. */
  headers?(): Record<string, string | string[] | undefined>;
  /** Has the client's connection gone? */
  clientGone?(): boolean;
}

/** The host's bindings for this request, if it passed any. */
export function bindingsOf(c: Context): RuntimeBindings | undefined {
  return c.env as RuntimeBindings | undefined;
}

/**
 * A request header of `c`, from the host's plain header object when it
 * passes one (on Node: no web `Headers` is built for the request), else
 * from the standard request. Names are lower case. As on Node, a repeated
 * header is one value joined with ", ", except those Node keeps only once
 * (e.g. `authorization`, `content-type`, `content-length`: the first wins).
 */
export function headerOf(c: Context, name: string): string | undefined {
  const headers = bindingsOf(c)?.headers?.();
  if (!headers) return c.req.header(name);
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A `TextMapGetter` (OpenTelemetry propagation) over the same headers. */
export function headerCarrier(c: Context): { get(name: string): string | undefined; keys(): string[] } {
  const headers = bindingsOf(c)?.headers?.();
  if (!headers) {
    const standard = c.req.raw.headers;
    return { get: (name) => standard.get(name) ?? undefined, keys: () => [...standard.keys()] };
  }
  return {
    get: (name) => {
      const value = headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
    keys: () => Object.keys(headers),
  };
}
