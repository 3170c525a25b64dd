/**
 * The HTTP framing of Triton's binary tensor extension: a JSON header of
 * `Inference-Header-Content-Length` bytes, then the tensors' raw bytes in
 * the order their JSON entries appear. Splits request bodies and joins
 * response bodies; the tensors themselves are read by `raw-tensor.ts`.
 */
import { badRequest } from '../http/service-error.ts';

export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

const utf8 = new TextDecoder();

export interface InferBody {
  /** The parsed JSON object (the whole body, or the header part of a binary body). */
  json: unknown;
  /** The bytes after the JSON header; absent for a JSON-only body. */
  binary?: Uint8Array;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`malformed JSON ${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Reads a request body: all JSON without `headerLength`; with it, a JSON
 * header of that many bytes followed by binary tensor data.
 * @throws ServiceError 400 for a header length that is not a byte count
 * within the body, or JSON that does not parse.
 */
export function splitInferBody(body: Uint8Array, headerLength: string | undefined): InferBody {
  if (headerLength === undefined) return { json: parseJson(utf8.decode(body), 'body') };
  const trimmed = headerLength.trim();
  if (!/^\d{1,15}$/.test(trimmed)) {
    throw badRequest(`Inference-Header-Content-Length must be a byte count, got ${JSON.stringify(headerLength.slice(0, 40))}`);
  }
  const length = Number(trimmed);
  if (length > body.byteLength) {
    throw badRequest(`Inference-Header-Content-Length ${length} is past the end of the body (${body.byteLength} bytes)`);
  }
  if (length === 0) throw badRequest('Inference-Header-Content-Length is 0: the JSON header is missing');
  const json = parseJson(utf8.decode(body.subarray(0, length)), `inference header (first ${length} bytes)`);
  return { json, binary: body.subarray(length) };
}

/** Header JSON text followed by each chunk, as one body. */
export function joinBinaryBody(header: string, chunks: readonly Uint8Array[]): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const head = new TextEncoder().encode(header);
  let total = head.byteLength;
  for (const chunk of chunks) total += chunk.byteLength;
  const body = new Uint8Array(total);
  body.set(head, 0);
  let offset = head.byteLength;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body, headerLength: head.byteLength };
}
