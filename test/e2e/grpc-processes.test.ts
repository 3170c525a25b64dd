/**
 * gRPC on real processes: the worker and gateway entries listen for
 * inference.GRPCInferenceService when given a gRPC port, run every call
 * through the same pipeline as HTTP, and stop taking calls on SIGTERM.
 */
import { freePort, startWorkerProcess, type WorkerProcess } from '@switchyard/fleet/worker-process';
import { createInferenceClient, GrpcStatus, rawToValues, valuesToRaw } from '@switchyard/grpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_KEY, startFleet, type Fleet } from '../src/fleet-fixture.ts';

const request = {
  model_name: 'seed-classifier',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2] }],
  raw_input_contents: [valuesToRaw('FP32', [0.1, 0.2])],
};

describe('gRPC on the service processes', () => {
  let fleet: Fleet;
  let worker: WorkerProcess;
  let workerGrpc: number;
  beforeAll(async () => {
    fleet = await startFleet({ v1Replicas: 1 });
    workerGrpc = await freePort();
    worker = await startWorkerProcess({ model: 'seed-classifier', repository: fleet.repository, versions: [1], name: 'grpc-worker', env: { LOG_LEVEL: 'warn', GRPC_PORT: String(workerGrpc) } });
  });
  afterAll(async () => {
    await worker?.stop();
    await fleet?.close();
  });

  it('serves ModelInfer on a worker process, and stops taking calls on SIGTERM', async () => {
    const direct = createInferenceClient(`127.0.0.1:${workerGrpc}`);
    try {
      expect(await direct.serverReady()).toEqual({ ready: true });
      const reply = await direct.modelInfer(request);
      expect(reply.model_name).toBe('seed-classifier');
      expect(rawToValues('FP32', reply.raw_output_contents?.[0] ?? new Uint8Array())).toHaveLength(2);
      const bad = await direct.modelInfer({ ...request, inputs: [{ name: 'nope', datatype: 'FP32', shape: [1, 2] }] }).then(() => undefined, (error: { code: number }) => error.code);
      expect(bad).toBe(GrpcStatus.INVALID_ARGUMENT);
      // The entry serves Triton's extensions over gRPC.
      expect((await direct.modelConfig({ name: 'seed-classifier' })).config).toMatchObject({ name: 'seed-classifier', platform: 'onnxruntime_onnx' });
      expect((await direct.modelStatistics({ name: 'seed-classifier' })).model_stats.map((m) => m.version)).toEqual(['1']);
      expect((await direct.repositoryIndex({})).models.map((m) => m.name)).toEqual(['seed-classifier']);
    } finally {
      direct.close();
    }
    expect(await worker.stop()).toBe(0);
  });

  it('serves ModelInfer through a gateway process with its auth and routing, and exits 0 on SIGTERM', async () => {
    const gatewayGrpc = await freePort();
    const gateway = await fleet.startGateway({ GRPC_PORT: String(gatewayGrpc) });
    const viaGateway = createInferenceClient(`127.0.0.1:${gatewayGrpc}`);
    try {
      expect(await viaGateway.serverLive()).toEqual({ live: true });
      const reply = await viaGateway.modelInfer(request, { metadata: { authorization: `Bearer ${FLEET_KEY}`, 'x-switchyard-variant': 'v1' } });
      expect(reply.metadata['x-switchyard-variant']).toBe('v1');
      expect(reply.model_version).toBe('1');
      const probabilities = rawToValues('FP32', reply.raw_output_contents?.[0] ?? new Uint8Array()) as number[];
      expect(probabilities).toHaveLength(2);
      expect((probabilities[0] ?? 0) + (probabilities[1] ?? 0)).toBeCloseTo(1, 5);
      // The gateway's auth applies to gRPC as to HTTP.
      const refused = await viaGateway.modelInfer(request).then(() => undefined, (error: { code: number }) => error.code);
      expect(refused).toBe(GrpcStatus.UNAUTHENTICATED);
      // Triton's extensions, through the same auth and routing.
      const { config } = await viaGateway.modelConfig({ name: 'seed-classifier', version: '1' }, { metadata: { authorization: `Bearer ${FLEET_KEY}` } });
      expect(config.input.map((i) => i.data_type)).toEqual(['TYPE_FP32']);
      const unauthenticated = await viaGateway.modelConfig({ name: 'seed-classifier' }).then(() => undefined, (error: { code: number }) => error.code);
      expect(unauthenticated).toBe(GrpcStatus.UNAUTHENTICATED);
    } finally {
      viaGateway.close();
    }
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  });
});
