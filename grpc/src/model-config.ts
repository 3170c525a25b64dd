/**
 * Triton's model configuration extension over gRPC: ModelConfig as
 * `GET /v2/models/{m}[/versions/{v}]/config`, and the JSON configuration
 * the service answers with back as the `ModelConfig` message of
 * `model_config.proto`. Only the fields that message declares are carried;
 * an enum name the message does not know arrives as its zero value.
 */
import { modelPath, type RestCall } from './rest-translation.ts';
import type { ModelRef } from './messages.ts';

const DATA_TYPES = new Set([
  'TYPE_INVALID', 'TYPE_BOOL', 'TYPE_UINT8', 'TYPE_UINT16', 'TYPE_UINT32', 'TYPE_UINT64', 'TYPE_INT8', 'TYPE_INT16', 'TYPE_INT32', 'TYPE_INT64',
  'TYPE_FP16', 'TYPE_FP32', 'TYPE_FP64', 'TYPE_STRING', 'TYPE_BF16',
]);
const FORMATS = new Set(['FORMAT_NONE', 'FORMAT_NHWC', 'FORMAT_NCHW']);
const KINDS = new Set(['KIND_AUTO', 'KIND_GPU', 'KIND_CPU', 'KIND_MODEL']);

const record = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const integer = (value: unknown): number => (typeof value === 'number' && Number.isSafeInteger(value) ? value : 0);
const oneOf = (names: ReadonlySet<string>, value: unknown, fallback: string): string => (typeof value === 'string' && names.has(value) ? value : fallback);
const dims = (value: unknown): number[] => list(value).map(integer);

export const modelConfigCall = ({ name, version }: ModelRef): RestCall => ({ method: 'GET', path: `${modelPath(name, version)}/config` });

function versionPolicy(json: unknown): Record<string, unknown> | undefined {
  const policy = record(json);
  if (policy.specific !== undefined) return { specific: { versions: list(record(policy.specific).versions).map(integer) } };
  if (policy.all !== undefined) return { all: {} };
  if (policy.latest !== undefined) return { latest: { num_versions: integer(record(policy.latest).num_versions) } };
  return undefined;
}

function dynamicBatching(json: unknown): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  const batching = record(json);
  return {
    preferred_batch_size: list(batching.preferred_batch_size).map(integer),
    max_queue_delay_microseconds: integer(batching.max_queue_delay_microseconds),
    default_queue_policy: { max_queue_size: integer(record(batching.default_queue_policy).max_queue_size) },
  };
}

/** The ModelConfig reply to the service's JSON configuration. */
export function modelConfigReply(json: unknown): { config: Record<string, unknown> } {
  const c = record(json);
  const policy = versionPolicy(c.version_policy);
  const batching = dynamicBatching(c.dynamic_batching);
  return {
    config: {
      name: text(c.name),
      platform: text(c.platform),
      backend: text(c.backend),
      ...(policy ? { version_policy: policy } : {}),
      max_batch_size: integer(c.max_batch_size),
      input: list(c.input).map((entry) => {
        const i = record(entry);
        return { name: text(i.name), data_type: oneOf(DATA_TYPES, i.data_type, 'TYPE_INVALID'), format: oneOf(FORMATS, i.format, 'FORMAT_NONE'), dims: dims(i.dims) };
      }),
      output: list(c.output).map((entry) => {
        const o = record(entry);
        return { name: text(o.name), data_type: oneOf(DATA_TYPES, o.data_type, 'TYPE_INVALID'), dims: dims(o.dims), label_filename: text(o.label_filename) };
      }),
      instance_group: list(c.instance_group).map((entry) => {
        const g = record(entry);
        return { name: text(g.name), count: integer(g.count), kind: oneOf(KINDS, g.kind, 'KIND_AUTO') };
      }),
      ...(batching ? { dynamic_batching: batching } : {}),
      // fromEntries defines own properties, so a key such as `__proto__` stays a plain key.
      parameters: Object.fromEntries(Object.entries(record(c.parameters)).map(([key, p]) => [key, { string_value: text(record(p).string_value) }])),
    },
  };
}
