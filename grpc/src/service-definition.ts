/**
 * Loads Switchyard's own `inference.proto` (shipped in this package's
 * `proto/` folder, found relative to this module so it resolves the same
 * from the source tree, an installed package or an image).
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

export const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));
export const INFERENCE_PROTO = fileURLToPath(new URL('../proto/inference.proto', import.meta.url));

/** Field names as written in the .proto; 64-bit integers as strings; enums by name; unset fields as defaults. */
const LOADER_OPTIONS: Options = { includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String, defaults: true, arrays: true, objects: true, oneofs: true };

export interface InferenceService {
  definition: ServiceDefinition;
  Client: ServiceClientConstructor;
}

let loaded: InferenceService | undefined;

/** The service definition, parsed once per process (it is immutable). */
export function inferenceService(): InferenceService {
  if (loaded) return loaded;
  const root = loadPackageDefinition(loadSync(INFERENCE_PROTO, LOADER_OPTIONS));
  const Client = (root.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
  loaded = { definition: Client.service, Client };
  return loaded;
}
