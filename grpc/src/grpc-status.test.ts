import { status as GrpcStatus } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failureOf, grpcCodeOf, retryDelayOf } from './grpc-status.ts';

describe('gRPC status of an HTTP answer', () => {
  it('maps the statuses the REST API uses to the codes gRPC clients expect', () => {
    expect([400, 401, 403, 404, 413, 429, 499, 500, 503, 504].map(grpcCodeOf)).toEqual([
      GrpcStatus.INVALID_ARGUMENT, GrpcStatus.UNAUTHENTICATED, GrpcStatus.PERMISSION_DENIED, GrpcStatus.NOT_FOUND, GrpcStatus.RESOURCE_EXHAUSTED,
      GrpcStatus.RESOURCE_EXHAUSTED, GrpcStatus.CANCELLED, GrpcStatus.INTERNAL, GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED,
    ]);
  });

  it('never maps a client error to OK or INTERNAL', () => {
    fc.assert(fc.property(fc.integer({ min: 400, max: 499 }), (status) => {
      expect([GrpcStatus.OK, GrpcStatus.INTERNAL]).not.toContain(grpcCodeOf(status));
    }));
  });

  it('keeps the message, passes the rate-limit fields, and encodes Retry-After as RetryInfo', () => {
    const headers = new Headers({ 'retry-after': '7', ratelimit: '"t";r=0;t=7', 'x-request-id': 'r1', 'content-type': 'application/json' });
    const failure = failureOf(429, "rate limit 't' exceeded; retry in 7 s", headers);
    expect(failure.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(failure.details).toBe("rate limit 't' exceeded; retry in 7 s");
    expect(failure.metadata.get('retry-after')).toEqual(['7']);
    expect(failure.metadata.get('ratelimit')).toEqual(['"t";r=0;t=7']);
    expect(failure.metadata.get('content-type')).toEqual([]);
    expect(retryDelayOf(failure.metadata.get('grpc-status-details-bin')[0] as Buffer)).toBe(7);
    expect(failureOf(400, 'bad', headers).metadata.get('grpc-status-details-bin')).toEqual([]);
  });
});
