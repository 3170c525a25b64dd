/**
 * The schema of `<repo>/<model>/config.yaml` (names follow Triton's model
 * configuration where one exists).
 */
import { z } from 'zod';
import { DATATYPES } from '../protocol/datatypes.ts';

export const EXECUTION_PROVIDERS = ['cuda', 'tensorrt', 'cpu'] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

const TensorOverrideSchema = z
  .object({
    name: z.string().min(1),
    /** Must agree with the model; stated to document and check it. */
    datatype: z.enum(DATATYPES).optional(),
    /** Shape without the batch dimension when batching; -1 leaves a dimension variable. */
    dims: z.array(z.number().int().min(-1)).optional(),
  })
  .strict();

const OutputOverrideSchema = TensorOverrideSchema.extend({
  /**
   * A file in the model's folder with one class label per line, line i
   * naming class index i (Triton's `label_filename`); used by classification.
   */
  label_filename: z.string().regex(/^[\w][\w.-]*$/, 'must be a file name in the model folder (no paths)').optional(),
}).strict();

export const ModelConfigSchema = z
  .object({
    /** Largest batch the dynamic batcher forms; 0 turns batching off. Default 0. */
    max_batch_size: z.number().int().min(0).max(65536).default(0),
    dynamic_batching: z
      .object({
        /** Longest the oldest queued request waits for a batch to fill. Default 1000 µs. */
        max_queue_delay_microseconds: z.number().int().min(0).max(10_000_000).default(1000),
        /** Requests queued beyond this are refused with 429. Default 1024. */
        max_queue_size: z.number().int().min(1).max(1_000_000).default(1024),
      })
      .strict()
      .prefault({}),
    /** Batches run at once per version. Default 1. */
    instance_count: z.number().int().min(1).max(64).default(1),
    /** Tried in order; CPU is the fallback when none is available. Default `[cpu]`. */
    execution_providers: z.array(z.enum(EXECUTION_PROVIDERS)).min(1).default(['cpu']),
    threads: z
      .object({
        /** Threads inside one operator; 0 lets ONNX Runtime choose. Default 0. */
        intra_op: z.number().int().min(0).max(1024).default(0),
        /** Threads across operators; 0 lets ONNX Runtime choose. Default 0. */
        inter_op: z.number().int().min(0).max(1024).default(0),
        /**
         * Let idle pool threads spin waiting for work. Off by default: spinning
         * threads take the cores the event loop needs for parsing and replies.
         */
        allow_spinning: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    inputs: z.array(TensorOverrideSchema).optional(),
    outputs: z.array(OutputOverrideSchema).optional(),
  })
  .strict();

export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type TensorOverride = z.infer<typeof TensorOverrideSchema>;

/** One line per problem: `path: reason`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('\n');
}
