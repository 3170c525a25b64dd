import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceClient, GrpcStatus, type InferenceClient, type ServiceError } from './grpc-client.ts';
import { startGrpcServer, type GrpcServer } from './grpc-server.ts';

const d = (count: number, ns: number) => ({ count, ns });

/** Answers the REST forms of Triton's statistics and repository extensions as Triton documents them. */
async function tritonLike(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (pathname === '/v2/models/seed-classifier/versions/1/stats') {
    return Response.json({
      model_stats: [{
        name: 'seed-classifier', version: '1', last_inference: 1764100000000, inference_count: 64, execution_count: 2,
        inference_stats: { success: d(3, 9000), fail: d(1, 100), queue: d(3, 3000), compute_input: d(2, 10), compute_infer: d(2, 5000), compute_output: d(2, 20) },
        batch_stats: [{ batch_size: 32, compute_input: d(2, 10), compute_infer: d(2, 5000), compute_output: d(2, 20) }],
      }],
    });
  }
  if (pathname === '/v2/repository/index' && request.method === 'POST') {
    const body = (await request.json()) as { ready?: boolean };
    const all = [{ name: 'seed-classifier', version: '1', state: 'READY' }, { name: 'wide-mlp', version: '1', state: 'UNAVAILABLE', reason: 'loading' }];
    return Response.json(body.ready ? all.filter((m) => m.state === 'READY') : all);
  }
  return Response.json({ error: `no route for ${request.method} ${pathname}` }, { status: 404 });
}

describe("Triton's statistics and repository extensions over gRPC", () => {
  let server: GrpcServer;
  let client: InferenceClient;

  beforeAll(async () => {
    server = await startGrpcServer({ fetch: tritonLike, port: 0, host: '127.0.0.1', tritonExtensions: true });
    client = createInferenceClient(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('answers ModelStatistics from GET …/versions/{v}/stats, counts and nanoseconds intact', async () => {
    const { model_stats } = await client.modelStatistics({ name: 'seed-classifier', version: '1' });
    expect(model_stats).toHaveLength(1);
    expect(model_stats[0]).toMatchObject({ name: 'seed-classifier', version: '1', last_inference: '1764100000000', inference_count: '64', execution_count: '2' });
    expect(model_stats[0]?.inference_stats.success).toEqual({ count: '3', ns: '9000' });
    expect(model_stats[0]?.inference_stats.cache_hit).toEqual({ count: '0', ns: '0' });
    expect(model_stats[0]?.batch_stats).toEqual([{ batch_size: '32', compute_input: { count: '2', ns: '10' }, compute_infer: { count: '2', ns: '5000' }, compute_output: { count: '2', ns: '20' } }]);
  });

  it('answers RepositoryIndex from POST /v2/repository/index, honouring ready', async () => {
    expect((await client.repositoryIndex({})).models.map((m) => [m.name, m.state, m.reason])).toEqual([['seed-classifier', 'READY', ''], ['wide-mlp', 'UNAVAILABLE', 'loading']]);
    expect((await client.repositoryIndex({ ready: true })).models.map((m) => m.name)).toEqual(['seed-classifier']);
  });

  it('passes the service\'s 404 through as NOT_FOUND', async () => {
    const error = (await client.modelStatistics({ name: 'nope' }).catch((e: ServiceError) => e)) as ServiceError;
    expect(error.code).toBe(GrpcStatus.NOT_FOUND);
    expect(error.details).toBe('no route for GET /v2/models/nope/stats');
  });
});
