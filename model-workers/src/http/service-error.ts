/**
 * The one error type the worker throws: an HTTP status, a message for the
 * `{"error": "..."}` body, and optional headers such as `Retry-After`.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class ServiceError extends HTTPException {
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: ContentfulStatusCode, message: string, headers: Record<string, string> = {}) {
    super(status, { message });
    this.name = 'ServiceError';
    this.headers = headers;
  }
}

export function badRequest(message: string): ServiceError {
  return new ServiceError(400, message);
}
