import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { modelConfigCall, modelConfigReply } from './model-config.ts';
import { PROTO_DIR } from './service-definition.ts';
import { TensorCodecError } from './tensor-codec.ts';

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** A message written field by field with the field numbers of Triton's model_config.proto, independent of our .proto. */
function message(write: (w: protobuf.Writer) => void): Uint8Array {
  const w = protobuf.Writer.create();
  write(w);
  return w.finish();
}
const tag = (field: number, wireType: number) => (field << 3) | wireType;
const bytesField = (w: protobuf.Writer, field: number, bytes: Uint8Array) => w.uint32(tag(field, LENGTH_DELIMITED)).bytes(bytes);
const stringField = (w: protobuf.Writer, field: number, text: string) => w.uint32(tag(field, LENGTH_DELIMITED)).string(text);
const varintField = (w: protobuf.Writer, field: number, value: number) => w.uint32(tag(field, VARINT)).int64(value);
const packed = (w: protobuf.Writer, field: number, values: number[]) => bytesField(w, field, message((p) => values.forEach((v) => p.int64(v))));

const HTTP_CONFIG = {
  name: 'seed-classifier', platform: 'onnxruntime_onnx', backend: 'onnxruntime',
  version_policy: { specific: { versions: [1, 2] } },
  max_batch_size: 64,
  input: [{ name: 'features', data_type: 'TYPE_FP32', format: 'FORMAT_NONE', dims: [2] }],
  output: [{ name: 'probabilities', data_type: 'TYPE_STRING', dims: [-1], label_filename: 'labels.txt' }],
  dynamic_batching: { max_queue_delay_microseconds: 500, default_queue_policy: { max_queue_size: 128 } },
  instance_group: [{ name: 'seed-classifier_0', kind: 'KIND_CPU', count: 1 }],
  parameters: { intra_op_thread_count: { string_value: '1' } },
};

/** ModelConfigResponse { config = 1 } as Triton's protos number every field. */
const TRITON_WIRE = message((r) => bytesField(r, 1, message((c) => {
  stringField(c, 1, 'seed-classifier');
  stringField(c, 2, 'onnxruntime_onnx');
  bytesField(c, 3, message((p) => bytesField(p, 3, message((s) => packed(s, 1, [1, 2])))));
  varintField(c, 4, 64);
  bytesField(c, 5, message((i) => { stringField(i, 1, 'features'); varintField(i, 2, 11); varintField(i, 3, 0); packed(i, 4, [2]); }));
  bytesField(c, 6, message((o) => { stringField(o, 1, 'probabilities'); varintField(o, 2, 13); packed(o, 3, [-1]); stringField(o, 4, 'labels.txt'); }));
  bytesField(c, 7, message((g) => { stringField(g, 1, 'seed-classifier_0'); varintField(g, 2, 1); varintField(g, 4, 2); }));
  bytesField(c, 11, message((b) => { varintField(b, 2, 500); bytesField(b, 6, message((q) => varintField(q, 4, 128))); }));
  bytesField(c, 14, message((m) => { stringField(m, 1, 'intra_op_thread_count'); bytesField(m, 2, message((v) => stringField(v, 1, '1'))); }));
  stringField(c, 17, 'onnxruntime');
})));

describe('ModelConfig over gRPC', () => {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `${PROTO_DIR}${target}`;
  root.loadSync('inference.proto', { keepCase: true });
  const Response = root.lookupType('inference.ModelConfigResponse');

  it('encodes the HTTP configuration with the field numbers and enum values of Triton\'s model_config.proto', () => {
    const encoded = Response.encode(Response.fromObject(modelConfigReply(HTTP_CONFIG))).finish();
    // Compare decoded forms: both sides are valid encodings, field order aside.
    expect(Response.toObject(Response.decode(encoded), { longs: Number, enums: String })).toEqual(Response.toObject(Response.decode(TRITON_WIRE), { longs: Number, enums: String }));
    expect(Buffer.from(encoded).equals(Buffer.from(TRITON_WIRE))).toBe(true);
  });

  it('reads a configuration in Triton\'s wire form back to the same fields', () => {
    const decoded = Response.toObject(Response.decode(TRITON_WIRE), { longs: Number, enums: String, oneofs: true });
    expect(decoded.config).toMatchObject({
      name: 'seed-classifier', max_batch_size: 64, backend: 'onnxruntime',
      input: [{ name: 'features', data_type: 'TYPE_FP32', dims: [2] }],
      output: [{ name: 'probabilities', data_type: 'TYPE_STRING', dims: [-1], label_filename: 'labels.txt' }],
      dynamic_batching: { max_queue_delay_microseconds: 500, default_queue_policy: { max_queue_size: 128 } },
      instance_group: [{ kind: 'KIND_CPU', count: 1 }],
    });
  });

  it('turns unknown enum names and malformed fields into defaults rather than failing the call', () => {
    const { config } = modelConfigReply({ name: 7, input: [{ name: 'x', data_type: 'TYPE_NOPE', dims: ['a', 3] }], instance_group: 'no', parameters: { __proto__: { string_value: 1 } } });
    expect(config).toMatchObject({ name: '', input: [{ name: 'x', data_type: 'TYPE_INVALID', format: 'FORMAT_NONE', dims: [0, 3] }], instance_group: [] });
    expect(config.dynamic_batching).toBeUndefined();
    expect(() => Response.encode(Response.fromObject(modelConfigReply(null))).finish()).not.toThrow();
  });

  it('asks the REST form for the named model and version, and refuses a call without a model name', () => {
    expect(modelConfigCall({ name: 'a b', version: '2' })).toEqual({ method: 'GET', path: '/v2/models/a%20b/versions/2/config' });
    expect(modelConfigCall({ name: 'm' })).toEqual({ method: 'GET', path: '/v2/models/m/config' });
    expect(() => modelConfigCall({ name: '' })).toThrow(TensorCodecError);
  });
});
