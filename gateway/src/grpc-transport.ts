/**
 * The gateway's gRPC transport: inference.GRPCInferenceService in front of
 * the gateway's fetch handler, so every call runs the whole plugin
 * pipeline. Triton's model configuration, statistics and repository index
 * calls are served (the pipeline answers their REST forms, with the same
 * auth, scopes and routing). The entry and the tests start it through this
 * one function, so tests exercise the settings production runs. Tensors
 * reach the pipeline in Triton's binary form, and the body through the
 * gateway's runtime bindings (no web body stream per call), and the
 * upstream's answer is read back whole, without a body stream.
 */
import { startGrpcServer, type GrpcServer, type GrpcServerOptions } from '@switchyard/grpc/server';
import { bytesOf } from '@switchyard/observability/runtime-bindings';

export type GatewayGrpcOptions = Pick<GrpcServerOptions, 'fetch' | 'port' | 'host' | 'logger'>;

export function startGatewayGrpc(options: GatewayGrpcOptions): Promise<GrpcServer> {
  return startGrpcServer({ ...options, tensorBody: 'binary', tritonExtensions: true, runtimeBindings: true, bodyOf: bytesOf });
}
