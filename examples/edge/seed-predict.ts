/**
 * Edge worker: the seed classifier as its first users called it.
 * `POST /predict` with `{"feature": "x,y"}` → `{"prediction": P(inside)}`.
 * Parses the comma-separated point, calls the routed `seed-classifier`
 * variant through `env.MODEL` (Open Inference Protocol v2) and returns the
 * probability of class 1 (inside the circle).
 */
import type { EdgeWorker } from '../../gateway/src/edge/contract.ts';

function badRequest(message: string): Response {
  return Response.json({ error: message }, { status: 400 });
}

const worker: EdgeWorker = {
  async fetch(request, env, ctx) {
    if (request.method !== 'POST') return Response.json({ error: 'use POST' }, { status: 405 });
    let payload: unknown;
    try {
      payload = await request.json();
    } catch {
      return badRequest('body must be JSON like {"feature": "1.0,2.0"}');
    }
    const feature = (payload as { feature?: unknown } | null)?.feature;
    if (typeof feature !== 'string') return badRequest('"feature" must be a string like "1.0,2.0"');
    const point = feature.split(',').map((part) => Number(part.trim()));
    if (point.length !== 2 || point.some((x) => !Number.isFinite(x))) return badRequest('"feature" must be two comma-separated numbers');
    const res = await env.MODEL.fetch(`http://model/v2/models/${ctx.model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: ctx.requestId, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: point }] }),
    });
    if (!res.ok) return new Response(res.body, { status: res.status, headers: { 'content-type': 'application/json' } });
    const answer = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
    const probabilities = answer.outputs.find((o) => o.name === 'probabilities')?.data ?? [];
    return Response.json({ prediction: probabilities[1] });
  },
};

export default worker;
