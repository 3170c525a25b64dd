/**
 * The `binary` tensor body: ModelInfer reaches the service in Triton's
 * binary tensor extension. The service here is a small reference of the
 * extension as its specification describes it (JSON header of
 * `Inference-Header-Content-Length` bytes, then each binary input's bytes
 * in input order; binary outputs the same way back).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceClient, GrpcStatus, type InferenceClient, type ServiceError } from './grpc-client.ts';
import { startGrpcServer, type GrpcServer } from './grpc-server.ts';
import { ELEMENT_BYTES, valuesToRaw } from './tensor-codec.ts';

interface Seen {
  headers: Headers;
  header: { parameters?: Record<string, unknown>; inputs: Array<{ name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: Record<string, unknown> }> };
  tensors: Uint8Array[];
}

/** Echoes every input back as an output, binary when the caller asked for binary outputs. */
function referenceService(seen: Seen[], answer: 'binary' | 'json' | 'broken' = 'binary') {
  return async (request: Request): Promise<Response> => {
    const bytes = new Uint8Array(await request.arrayBuffer());
    const length = Number(request.headers.get('inference-header-content-length'));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, length))) as Seen['header'];
    const tensors: Uint8Array[] = [];
    let offset = length;
    for (const input of header.inputs) {
      const size = input.parameters?.binary_data_size;
      if (typeof size === 'number') {
        tensors.push(bytes.subarray(offset, offset + size));
        offset += size;
      } else tensors.push(valuesToRaw(input.datatype, input.data ?? []));
    }
    seen.push({ headers: request.headers, header, tensors });
    const outputs = header.inputs.map((input, i) => ({
      name: `out_${input.name}`, datatype: input.datatype, shape: input.shape,
      ...(answer === 'json' ? { data: [] } : { parameters: { binary_data_size: (tensors[i]?.byteLength ?? 0) + (answer === 'broken' ? 1 : 0) } }),
    }));
    const json = new TextEncoder().encode(JSON.stringify({ model_name: 'echo', model_version: '1', outputs }));
    if (answer === 'json') return new Response(json, { headers: { 'content-type': 'application/json' } });
    return new Response(Buffer.concat([json, ...tensors]), { headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.byteLength) } });
  };
}

describe('binary tensor body', () => {
  const seen: Seen[] = [];
  let server: GrpcServer;
  let client: InferenceClient;

  beforeAll(async () => {
    server = await startGrpcServer({ fetch: referenceService(seen), port: 0, host: '127.0.0.1', tensorBody: 'binary' });
    client = createInferenceClient(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('sends raw inputs untouched after the JSON header and reads binary outputs back byte for byte', async () => {
    const nan = Buffer.from([0x01, 0x00, 0xc0, 0x7f]); // a NaN with a payload: JSON could not carry it
    const notUtf8 = Buffer.from([1, 0, 0, 0, 0xff]);
    const reply = await client.modelInfer({
      model_name: 'echo', id: 'b1', parameters: { mode: { string_param: 'x' } },
      inputs: [{ name: 'a', datatype: 'FP32', shape: [1] }, { name: 'b', datatype: 'BYTES', shape: [1] }],
      raw_input_contents: [nan, notUtf8],
    }, { metadata: { authorization: 'Bearer k' } });
    const last = seen.at(-1);
    expect(last?.headers.get('authorization')).toBe('Bearer k');
    expect(last?.headers.get('content-type')).toBe('application/octet-stream');
    expect(last?.header).toEqual({
      id: 'b1',
      parameters: { mode: 'x', binary_data_output: true },
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } },
        { name: 'b', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } },
      ],
    });
    expect(reply.raw_output_contents.map((r) => Buffer.from(r))).toEqual([nan, notUtf8]);
    expect(reply.outputs.map((o) => o.parameters)).toEqual([{}, {}]); // binary_data_size stays a transport detail
  });

  it('sends typed contents as JSON data (the service checks their ranges), still asking for binary outputs', async () => {
    const reply = await client.modelInfer({
      model_name: 'echo',
      inputs: [{ name: 'typed', datatype: 'INT8', shape: [2], contents: { int_contents: [-1, 100] } }],
    });
    expect(seen.at(-1)?.header).toEqual({ parameters: { binary_data_output: true }, inputs: [{ name: 'typed', datatype: 'INT8', shape: [2], data: [-1, 100] }] });
    expect([...(reply.raw_output_contents[0] ?? [])]).toEqual([0xff, 100]);
  });

  it('delivers any raw inputs to the service exactly (property)', async () => {
    const types = [...ELEMENT_BYTES.keys()];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...types).chain((datatype) => fc.nat(6).chain((n) =>
          fc.uint8Array({ minLength: n * (ELEMENT_BYTES.get(datatype) ?? 1), maxLength: n * (ELEMENT_BYTES.get(datatype) ?? 1) }).map((bytes) => ({ datatype, n, bytes })))),
        { minLength: 1, maxLength: 4 }),
        async (tensors) => {
          const reply = await client.modelInfer({
            model_name: 'echo',
            inputs: tensors.map((t, i) => ({ name: `i${i}`, datatype: t.datatype, shape: [t.n] })),
            raw_input_contents: tensors.map((t) => t.bytes),
          });
          expect(seen.at(-1)?.tensors.map((b) => Buffer.from(b))).toEqual(tensors.map((t) => Buffer.from(t.bytes)));
          expect(reply.raw_output_contents.map((b) => Buffer.from(b))).toEqual(tensors.map((t) => Buffer.from(t.bytes)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reads a JSON answer too, and refuses an answer whose binary sizes run past its end with INTERNAL', async () => {
    for (const [answer, check] of [
      ['json', (r: unknown) => expect((r as { raw_output_contents: Uint8Array[] }).raw_output_contents).toEqual([Buffer.alloc(0)])],
      ['broken', (r: unknown) => expect((r as ServiceError).code).toBe(GrpcStatus.INTERNAL)],
    ] as const) {
      const other = await startGrpcServer({ fetch: referenceService([], answer), port: 0, host: '127.0.0.1', tensorBody: 'binary', logger: { error: () => undefined } });
      const c = createInferenceClient(`127.0.0.1:${other.port}`);
      const result = await c.modelInfer({ model_name: 'echo', inputs: [{ name: 'a', datatype: 'FP32', shape: [0] }], raw_input_contents: [Buffer.alloc(0)] }).catch((e: unknown) => e);
      check(result);
      c.close();
      await other.close();
    }
  });
});
