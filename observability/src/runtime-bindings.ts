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
  return headers ? joined(headers[name]) : c.req.header(name);
}

/** A plain header object's value as one string (repeated values joined with ", "). */
function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** A `TextMapGetter` (OpenTelemetry propagation) over the same headers. */
export function headerCarrier(c: Context): { get(name: string): string | undefined; keys(): string[] } {
  const headers = bindingsOf(c)?.headers?.();
  if (!headers) {
    const standard = c.req.raw.headers;
    return { get: (name) => standard.get(name) ?? undefined, keys: () => [...standard.keys()] };
  }
  return { get: (name) => joined(headers[name]), keys: () => Object.keys(headers) };
}

/** Chunks of a request body; socket and web stream chunks are backed by plain ArrayBuffers. */
export type BodyChunks = AsyncIterable<Uint8Array<ArrayBuffer>> | Iterable<Uint8Array<ArrayBuffer>>;

/** The request body of `c`: the host's `readBody` binding when there is one, else the standard body stream; null without a body. */
export function bodySource(c: Context): BodyChunks | null {
  return (bindingsOf(c)?.readBody?.() ?? c.req.raw.body) as BodyChunks | null;
}

/**
 * Reads every chunk of `source`, throwing `tooLarge()` the moment the total
 * passes `maxBytes` (leaving the loop cancels a stream). A body that came
 * in one chunk is returned without a copy. A failing stream's error is
 * thrown as it came.
 */
export async function collectBody(source: BodyChunks, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Bodies of answers made by `bytesResponse`, for hosts that read answers in-process. */
const answerBytes = new WeakMap<Response, Uint8Array>();

/**
 * A response whose body is `body`, whole. A host that hands the app's
 * answer on without writing it to a socket (the gRPC transport) reads the
 * bytes back with `bytesOf` instead of through the body stream.
 */
export function bytesResponse(body: Uint8Array<ArrayBuffer> | null, init: ResponseInit): Response {
  const response = new Response(body, init);
  if (body) answerBytes.set(response, body);
  return response;
}

/** The whole body of a response made by `bytesResponse` (unread, as given); undefined for any other. */
export function bytesOf(response: Response): Uint8Array | undefined {
  return answerBytes.get(response);
}
