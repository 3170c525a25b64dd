import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../http/service-error.ts';
import { joinBinaryBody, splitInferBody } from './binary-body.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('binary body framing', () => {
  it('splits a JSON header of Inference-Header-Content-Length bytes from the binary part', () => {
    const header = '{"inputs":[]}';
    const body = new Uint8Array([...bytes(header), 1, 2, 3]);
    const { json, binary } = splitInferBody(body, String(header.length));
    expect(json).toEqual({ inputs: [] });
    expect([...(binary ?? [])]).toEqual([1, 2, 3]);
    expect(splitInferBody(bytes(header), undefined)).toEqual({ json: { inputs: [] } });
  });

  it.each([
    ['past the end of the body', '99', 'Inference-Header-Content-Length 99 is past the end of the body (16 bytes)'],
    ['not a number', 'abc', 'Inference-Header-Content-Length must be a byte count, got "abc"'],
    ['negative', '-1', 'Inference-Header-Content-Length must be a byte count, got "-1"'],
    ['zero', '0', 'Inference-Header-Content-Length is 0: the JSON header is missing'],
    ['cutting the JSON short', '5', /^malformed JSON inference header \(first 5 bytes\)/],
  ])('refuses a header length %s with a 400', (_, length, message) => {
    const body = new Uint8Array([...bytes('{"inputs":[]}'), 1, 2, 3]);
    expect(() => splitInferBody(body, length)).toThrow(message);
    try {
      splitInferBody(body, length);
    } catch (error) {
      expect((error as ServiceError).status).toBe(400);
    }
  });

  it('joins a header and chunks, and splitting gives them back', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 4 }), (value, chunks) => {
      const { body, headerLength } = joinBinaryBody(JSON.stringify(value), chunks);
      const { json, binary } = splitInferBody(body, String(headerLength));
      expect(json).toEqual(JSON.parse(JSON.stringify(value)));
      expect([...(binary ?? [])]).toEqual(chunks.flatMap((c) => [...c]));
    }));
  });

  it('answers any bytes with any header value with a parse or a 400, never another error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.option(fc.oneof(fc.nat({ max: 80 }).map(String), fc.string())), (body, header) => {
      try {
        splitInferBody(body, header ?? undefined);
      } catch (error) {
        expect(error).toBeInstanceOf(ServiceError);
        expect((error as ServiceError).status).toBe(400);
      }
    }));
  });
});
