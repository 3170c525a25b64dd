/**
 * `Content-Encoding` of request bodies (gzip, deflate): which codings are
 * accepted, and how many bytes a coded body decodes to, counted as it
 * streams and abandoned the moment it passes a limit, so a small body that
 * inflates enormously is refused (413) without being held in memory.
 */
import { GatewayError } from './gateway-error.ts';

type DecodeFormat = 'gzip' | 'deflate';

const FORMATS = new Map<string, DecodeFormat>([['gzip', 'gzip'], ['x-gzip', 'gzip'], ['deflate', 'deflate']]);

/** The format to decode; undefined for identity. Throws 415 for other codings. */
export function decodeFormat(header: string | null | undefined): DecodeFormat | undefined {
  const coding = (header ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return undefined;
  const format = FORMATS.get(coding);
  if (!format) throw new GatewayError(415, `unsupported Content-Encoding '${coding.slice(0, 40)}'; send gzip, deflate or identity`);
  return format;
}

/**
 * Checks that `body`, coded as `format`, decodes to at most `maxBytes`.
 * @throws GatewayError 413 past the limit, 400 for data that does not decode.
 */
export async function checkDecodedSize(body: Uint8Array<ArrayBuffer>, format: DecodeFormat, maxBytes: number): Promise<void> {
  const reader = new Blob([body]).stream().pipeThrough<Uint8Array>(new DecompressionStream(format)).getReader();
  let total = 0;
  for (;;) {
    let result: Awaited<ReturnType<typeof reader.read>>;
    try {
      result = await reader.read();
    } catch (error) {
      throw new GatewayError(400, `request body is not valid ${format} data: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (result.done) return;
    total += result.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new GatewayError(413, `request body exceeds ${maxBytes} bytes once decoded (Content-Encoding: ${format})`);
    }
  }
}
