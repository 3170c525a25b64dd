/**
 * Reads a request body, decoding `Content-Encoding: gzip | deflate` as it
 * streams. The limit applies to the decoded bytes: decoding stops, and the
 * request is refused with 413, the moment the output passes it, so a small
 * body that inflates enormously never fills memory.
 */
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

export async function readRequestBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const format = contentDecoder(request.headers.get('content-encoding'));
  if (!format) return new Uint8Array(await request.arrayBuffer());
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.pipeThrough<Uint8Array>(new DecompressionStream(format)).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let result: Awaited<ReturnType<typeof reader.read>>;
    try {
      result = await reader.read();
    } catch (error) {
      throw new ServiceError(400, `request body is not valid ${format} data: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (result.done) break;
    total += result.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ServiceError(413, `request body exceeds ${maxBytes} bytes once decoded (Content-Encoding: ${format})`);
    }
    chunks.push(result.value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
