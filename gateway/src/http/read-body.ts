/**
 * Reads a request body up to a limit, failing with 413 as soon as the limit
 * is passed. It reads the host's `readBody` binding when there is one (on
 * Node: the socket stream, which spares building a web `Request` per call),
 * otherwise the standard request body stream. A gzip or deflate body is
 * returned as sent (it is forwarded byte for byte), but the limit applies
 * to its decoded size too. A body that breaks off (the client closed the
 * connection mid-upload) is a `ClientClosedRequest`.
 */
import type { Context } from 'hono';
import { ClientClosedRequest } from './client-closed.ts';
import { checkDecodedSize, decodeFormat } from './content-coding.ts';
import { GatewayError } from './gateway-error.ts';
import { bindingsOf, headerOf } from '@switchyard/observability/runtime-bindings';

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(413, `request body exceeds ${maxBytes} bytes`);
}

function concat(chunks: Uint8Array<ArrayBuffer>[], total: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

export async function readBody(c: Context, maxBytes: number): Promise<Uint8Array> {
  const format = decodeFormat(headerOf(c, 'content-encoding'));
  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await readRaw(c, maxBytes);
  } catch (error) {
    // The body comes from the client: a stream that fails is a client that went away.
    if (error instanceof GatewayError) throw error;
    throw new ClientClosedRequest(error);
  }
  if (format) await checkDecodedSize(body, format, maxBytes);
  return body;
}

async function readRaw(c: Context, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  // Web streams are async iterable; leaving the loop early cancels the stream.
  // Socket chunks and web stream chunks are backed by plain ArrayBuffers.
  const stream = (bindingsOf(c)?.readBody?.() ?? c.req.raw.body) as AsyncIterable<Uint8Array<ArrayBuffer>> | Iterable<Uint8Array<ArrayBuffer>> | null;
  if (!stream) return new Uint8Array(0);
  for await (const value of stream) {
    total += value.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(value);
  }
  return concat(chunks, total);
}
