/**
 * HTTP answers as gRPC statuses. The message is the REST body's `error`
 * text unchanged; a 429's `Retry-After` travels as `retry-after` metadata
 * and as a google.rpc.RetryInfo detail in `grpc-status-details-bin`, where
 * gRPC clients look for it.
 */
import { fileURLToPath } from 'node:url';
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const ERROR_DETAILS_PROTO = fileURLToPath(new URL('../proto/error_details.proto', import.meta.url));
const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** The gRPC code for an HTTP status (gRPC's own HTTP mapping, plus 499 and the codes REST uses here). */
export function grpcCodeOf(httpStatus: number): GrpcStatus {
  switch (httpStatus) {
    case 400: return GrpcStatus.INVALID_ARGUMENT;
    case 401: return GrpcStatus.UNAUTHENTICATED;
    case 403: return GrpcStatus.PERMISSION_DENIED;
    case 404: return GrpcStatus.NOT_FOUND;
    case 408: return GrpcStatus.DEADLINE_EXCEEDED;
    case 409: return GrpcStatus.ABORTED;
    case 413: return GrpcStatus.RESOURCE_EXHAUSTED;
    case 415: return GrpcStatus.INVALID_ARGUMENT;
    case 429: return GrpcStatus.RESOURCE_EXHAUSTED;
    case 499: return GrpcStatus.CANCELLED;
    case 501: return GrpcStatus.UNIMPLEMENTED;
    case 502:
    case 503: return GrpcStatus.UNAVAILABLE;
    case 504: return GrpcStatus.DEADLINE_EXCEEDED;
    default: return httpStatus >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN;
  }
}

interface ErrorDetailTypes {
  Status: protobuf.Type;
  RetryInfo: protobuf.Type;
}

let detailTypes: ErrorDetailTypes | undefined;

function errorDetailTypes(): ErrorDetailTypes {
  if (!detailTypes) {
    const root = new protobuf.Root().loadSync(ERROR_DETAILS_PROTO, { keepCase: true });
    detailTypes = { Status: root.lookupType('google.rpc.Status'), RetryInfo: root.lookupType('google.rpc.RetryInfo') };
  }
  return detailTypes;
}

/** `grpc-status-details-bin`: a google.rpc.Status carrying RetryInfo. */
export function retryStatusDetails(code: GrpcStatus, message: string, retryAfterSeconds: number): Buffer {
  const { Status, RetryInfo } = errorDetailTypes();
  const retry = RetryInfo.encode(RetryInfo.create({ retry_delay: { seconds: Math.ceil(retryAfterSeconds), nanos: 0 } })).finish();
  const status = Status.create({ code, message, details: [{ type_url: RETRY_INFO_TYPE_URL, value: retry }] });
  return Buffer.from(Status.encode(status).finish());
}

/** Reads the retry delay (seconds) from `grpc-status-details-bin`, if it carries one. */
export function retryDelayOf(details: Uint8Array): number | undefined {
  const { Status, RetryInfo } = errorDetailTypes();
  const status = Status.toObject(Status.decode(details), { longs: Number }) as { details?: Array<{ type_url: string; value: Uint8Array }> };
  const entry = status.details?.find((d) => d.type_url === RETRY_INFO_TYPE_URL);
  if (!entry) return undefined;
  const info = RetryInfo.toObject(RetryInfo.decode(entry.value), { longs: Number }) as { retry_delay?: { seconds?: number; nanos?: number } };
  return (info.retry_delay?.seconds ?? 0) + (info.retry_delay?.nanos ?? 0) / 1e9;
}

/** Response headers worth passing to a gRPC client as metadata. */
const FORWARDED_RESPONSE_HEADERS = ['x-request-id', 'x-switchyard-variant', 'x-switchyard-edge-worker', 'ratelimit', 'ratelimit-policy', 'retry-after'];

export function responseMetadata(headers: Headers): Metadata {
  const metadata = new Metadata();
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = headers.get(name);
    if (value !== null) metadata.set(name, value);
  }
  return metadata;
}

export interface GrpcFailure {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

/** The gRPC status for a non-2xx REST answer whose `{"error"}` text is `message`. */
export function failureOf(httpStatus: number, message: string, headers: Headers): GrpcFailure {
  const code = grpcCodeOf(httpStatus);
  const metadata = responseMetadata(headers);
  const retryAfter = Number(headers.get('retry-after') ?? NaN);
  if (code === GrpcStatus.RESOURCE_EXHAUSTED && Number.isFinite(retryAfter) && retryAfter >= 0) {
    metadata.set('grpc-status-details-bin', retryStatusDetails(code, message, retryAfter));
  }
  return { code, details: message, metadata };
}
