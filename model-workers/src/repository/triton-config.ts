/**
 * A loaded model described as Triton's model configuration (the JSON form
 * `GET /v2/models/{m}/config` returns and Triton clients read): built from
 * the model's signature and its `config.yaml`.
 */
import type { Datatype } from '../protocol/datatypes.ts';
import type { TensorSpec } from '../protocol/tensor-spec.ts';
import type { LoadedModel, ModelVersion } from './load-model.ts';

/** Triton's `DataType` enum names; BYTES is `TYPE_STRING` there. */
const TRITON_TYPE: Readonly<Record<Datatype, string>> = {
  BOOL: 'TYPE_BOOL', UINT8: 'TYPE_UINT8', UINT16: 'TYPE_UINT16', UINT32: 'TYPE_UINT32', UINT64: 'TYPE_UINT64',
  INT8: 'TYPE_INT8', INT16: 'TYPE_INT16', INT32: 'TYPE_INT32', INT64: 'TYPE_INT64',
  FP16: 'TYPE_FP16', FP32: 'TYPE_FP32', FP64: 'TYPE_FP64', BYTES: 'TYPE_STRING',
};

function dims(spec: TensorSpec, batching: boolean): number[] {
  return batching ? spec.shape.slice(1) : [...spec.shape];
}

export function tritonModelConfig(model: LoadedModel, version: ModelVersion): Record<string, unknown> {
  const { config } = model;
  const batching = version.signature.maxBatchSize > 0;
  const labelFile = new Map((config.outputs ?? []).flatMap((o) => (o.label_filename ? [[o.name, o.label_filename] as const] : [])));
  const parameters: Record<string, { string_value: string }> = {};
  if (config.threads.intra_op > 0) parameters.intra_op_thread_count = { string_value: String(config.threads.intra_op) };
  if (config.threads.inter_op > 0) parameters.inter_op_thread_count = { string_value: String(config.threads.inter_op) };
  return {
    name: model.name,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    version_policy: { specific: { versions: [...model.versions.keys()] } },
    max_batch_size: version.signature.maxBatchSize,
    input: version.signature.inputs.map((spec) => ({ name: spec.name, data_type: TRITON_TYPE[spec.datatype], format: 'FORMAT_NONE', dims: dims(spec, batching) })),
    output: version.signature.outputs.map((spec) => ({
      name: spec.name, data_type: TRITON_TYPE[spec.datatype], dims: dims(spec, batching), label_filename: labelFile.get(spec.name) ?? '',
    })),
    ...(batching
      ? { dynamic_batching: { max_queue_delay_microseconds: config.dynamic_batching.max_queue_delay_microseconds, default_queue_policy: { max_queue_size: config.dynamic_batching.max_queue_size } } }
      : {}),
    instance_group: [{ name: `${model.name}_0`, kind: version.provider === 'cpu' ? 'KIND_CPU' : 'KIND_GPU', count: config.instance_count }],
    parameters,
  };
}
