/** Messages between the worker's event loop and its session threads. */
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/** A tensor as it crosses the thread boundary (typed arrays are transferred). */
export interface WireTensor {
  type: Tensor.Type;
  data: Exclude<Tensor.DataType, readonly unknown[]> | string[];
  dims: readonly number[];
}

export interface SessionThreadData {
  modelPath: string;
  /** Tried in order; the last is always `cpu`. */
  providers: string[];
  sessionOptions: InferenceSession.SessionOptions;
}

export type ThreadRequest =
  | { type: 'run'; id: number; feeds: Record<string, WireTensor> }
  | { type: 'release' };

export type RunReply =
  | { type: 'result'; id: number; outputs: Record<string, WireTensor> }
  | { type: 'error'; id: number; message: string };

export type ThreadReply =
  | RunReply
  | {
      type: 'ready';
      provider: string;
      failures: Array<{ provider: string; reason: string }>;
      inputMetadata: readonly InferenceSession.ValueMetadata[];
      outputMetadata: readonly InferenceSession.ValueMetadata[];
    }
  | { type: 'failed'; failures: Array<{ provider: string; reason: string }> }
  | { type: 'released' };
