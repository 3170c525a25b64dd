/** What a model version accepts and returns, as the protocol describes it. */
import type { Datatype } from './datatypes.ts';

/** Marks a variable dimension, as in the protocol's model metadata. */
export const VARIABLE_DIM = -1;

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** Full shape including the batch dimension; -1 where variable. */
  shape: readonly number[];
}

export interface ModelSignature {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
  /** 0 = no batching: shapes are taken as declared. Otherwise dim 0 is the batch. */
  maxBatchSize: number;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
