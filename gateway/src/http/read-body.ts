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
import { bodySource, collectBody, headerOf } from '@switchyard/observability/runtime-bindings';

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(413, `request body exceeds ${maxBytes} bytes`);
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
  const source = bodySource(c);
  return source ? collectBody(source, maxBytes, () => tooLarge(maxBytes)) : new Uint8Array(0);
}
