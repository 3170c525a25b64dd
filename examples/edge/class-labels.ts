/**
 * Edge worker: post-processing. Forwards a v2 inference request to the
 * routed variant unchanged and adds, for each output, the label of its
 * most probable class per row (`outputs[i].labels`). Labels come from the
 * `LABELS` var (comma-separated, index order). Binary tensor answers pass
 * through unlabelled.
 */
import type { EdgeWorker } from '../../gateway/src/edge/contract.ts';

interface Output {
  name: string;
  shape: number[];
  data: number[];
  labels?: string[];
}

const worker: EdgeWorker = {
  async fetch(request, env) {
    const labels = String(env.LABELS ?? '').split(',').map((l) => l.trim());
    const res = await env.MODEL.fetch(request);
    // Labels go into JSON answers; a binary tensor answer (Triton's extension, which every
    // gRPC call asks for) passes through as it is.
    if (!res.ok || res.headers.has('inference-header-content-length')) return res;
    const answer = (await res.json()) as { outputs: Output[] };
    for (const output of answer.outputs) {
      const classes = output.shape[output.shape.length - 1] ?? 1;
      output.labels = [];
      for (let row = 0; row * classes < output.data.length; row++) {
        const scores = output.data.slice(row * classes, (row + 1) * classes);
        const best = scores.indexOf(Math.max(...scores));
        output.labels.push(labels[best] ?? String(best));
      }
    }
    return Response.json(answer);
  },
};

export default worker;
