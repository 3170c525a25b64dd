/**
 * The TF Serving style v1 form: `{"instances": [...]}` in, `{"predictions":
 * [...]}` out, for models with one input. Instances become a batch along
 * dim 0 and go through the same validation as v2 requests.
 */
import { badRequest } from '../http/service-error.ts';
import { isRecord } from './json-shape.ts';
import type { ResponseTensor } from './infer-response.ts';
import { tensorDataJson } from './infer-response.ts';
import type { ModelSignature } from './tensor-spec.ts';

/** The shape of nested arrays, following first elements. */
function shapeOf(value: unknown, maxRank: number): number[] {
  const shape: number[] = [];
  let node = value;
  while (Array.isArray(node) && shape.length < maxRank) {
    shape.push(node.length);
    node = node[0];
  }
  return shape;
}

/** Rewrites a v1 predict body as a v2 infer body for `signature`. */
export function predictToInferBody(body: unknown, signature: ModelSignature): unknown {
  if (!isRecord(body) || !Array.isArray(body.instances)) throw badRequest('request body must be a JSON object with an "instances" array');
  const input = signature.inputs[0];
  if (signature.inputs.length !== 1 || !input) {
    throw badRequest(`this model takes ${signature.inputs.length} inputs; the v1 :predict form serves single-input models, use POST /v2/models/{model}/infer`);
  }
  if (body.instances.length === 0) throw badRequest('"instances" must not be empty');
  const rank = signature.maxBatchSize > 0 ? input.shape.length : input.shape.length + 1;
  const shape = shapeOf(body.instances, rank);
  const inferShape = signature.maxBatchSize > 0 ? shape : shape.slice(1);
  const instances: unknown[] = body.instances;
  if (signature.maxBatchSize === 0 && instances.length !== 1) {
    throw badRequest('this model does not batch: send exactly one instance');
  }
  const data: unknown = signature.maxBatchSize > 0 ? instances : instances[0];
  return { inputs: [{ name: input.name, datatype: input.datatype, shape: inferShape, data }] };
}

/** JSON text of `{"predictions": [...]}`: one entry per instance. */
export function encodePredictions(outputs: readonly ResponseTensor[], batching: boolean): string {
  const rows = batching ? (outputs[0]?.shape[0] ?? 0) : 1;
  const predictions: unknown[] = [];
  const parsed = outputs.map((o) => ({ name: o.name, shape: o.shape, flat: parseArray(tensorDataJson(o.datatype, o.data)) }));
  for (let r = 0; r < rows; r++) {
    const perOutput = parsed.map(({ shape, flat }) => {
      const rowShape = batching ? shape.slice(1) : shape;
      const rowSize = rowShape.reduce((a, b) => a * b, 1);
      return nest(flat.slice(r * rowSize, (r + 1) * rowSize), rowShape);
    });
    predictions.push(parsed.length === 1 ? perOutput[0] : Object.fromEntries(parsed.map((o, i) => [o.name, perOutput[i]])));
  }
  return JSON.stringify({ predictions });
}

function parseArray(json: string): unknown[] {
  return JSON.parse(json) as unknown[];
}

function nest(flat: unknown[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return shape.length === 0 ? flat[0] : flat;
  const [outer = 0, ...rest] = shape;
  const size = flat.length / Math.max(outer, 1);
  return Array.from({ length: outer }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}
