/**
 * Reads a request body, decoding `Content-Encoding: gzip | deflate` as it
 * streams. The limit applies to the bytes read and to the decoded bytes:
 * reading stops, and the request is refused with 413, the moment either
 * passes it, so neither a long chunked body nor a small body that inflates
 * enormously ever fills memory.
 */
import { bodySource, collectBody, headerOf, type BodyChunks } from '@switchyard/observability/runtime-bindings';
import type { Context } from 'hono';
import { ServiceError } from './service-error.ts';

type DecodeFormat = 'gzip' | 'deflate';

const DECODERS = new Map<string, DecodeFormat>([['gzip', 'gzip'], ['x-gzip', 'gzip'], ['deflate', 'deflate']]);

/** The decoder for a `Content-Encoding` value; undefined for identity. Throws 415 for other codings. */
export function contentDecoder(header: string | null | undefined): DecodeFormat | undefined {
  const coding = (header ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return undefined;
  const format = DECODERS.get(coding);
  if (!format) throw new ServiceError(415, `unsupported Content-Encoding '${coding.slice(0, 40)}'; send gzip, deflate or identity`);
  return format;
}

/** Reads every chunk, refusing with `tooLarge()` past `maxBytes`; a stream that fails is `broken`. */
async function collect(source: BodyChunks, maxBytes: number, tooLarge: () => ServiceError, broken: (error: unknown) => ServiceError): Promise<Uint8Array> {
  try {
    return await collectBody(source, maxBytes, tooLarge);
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    throw broken(error);
  }
}

/**
 * The request body of `c`, read from the host's `readBody` binding when
 * there is one (Node: the socket stream, with no web `Request` built) or
 * else from the standard request stream, at most `maxBytes` (decoded).
 */
export async function readRequestBody(c: Context, maxBytes: number): Promise<Uint8Array> {
  const format = contentDecoder(headerOf(c, 'content-encoding'));
  const source = bodySource(c);
  if (!source) return new Uint8Array(0);
  const unreadable = (error: unknown) => new ServiceError(400, `request body could not be read: ${error instanceof Error ? error.message : String(error)}`);
  if (!format) return collect(source, maxBytes, () => new ServiceError(413, `request body exceeds ${maxBytes} bytes`), unreadable);
  // Socket and web stream chunks are backed by plain ArrayBuffers.
  const stream = (source instanceof ReadableStream ? source : ReadableStream.from(source)) as ReadableStream<Uint8Array<ArrayBuffer>>;
  const decoded = stream.pipeThrough<Uint8Array<ArrayBuffer>>(new DecompressionStream(format));
  return collect(
    decoded,
    maxBytes,
    () => new ServiceError(413, `request body exceeds ${maxBytes} bytes once decoded (Content-Encoding: ${format})`),
    (error) => new ServiceError(400, `request body is not valid ${format} data: ${error instanceof Error ? error.message : String(error)}`),
  );
}
