/**
 * The worker's gRPC transport: inference.GRPCInferenceService in front of
 * the worker app, with Triton's model configuration, statistics and
 * repository index calls served (the app answers their REST forms).
 * The entry and the tests start it through this one function, so tests
 * exercise the settings production runs.
 */
import { startGrpcServer, type GrpcServer, type GrpcServerOptions } from '@switchyard/grpc/server';

export type WorkerGrpcOptions = Pick<GrpcServerOptions, 'fetch' | 'port' | 'host' | 'logger'>;

export function startWorkerGrpc(options: WorkerGrpcOptions): Promise<GrpcServer> {
  return startGrpcServer({ ...options, tensorBody: 'binary', tritonExtensions: true });
}
