/**
 * The one error type the gateway throws: an HTTP status, the message for
 * the `{"error": "..."}` body, and optional headers (`Retry-After`,
 * `WWW-Authenticate`). Rendered by the app's single `onError`.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class GatewayError extends HTTPException {
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: ContentfulStatusCode, message: string, headers: Record<string, string> = {}) {
    super(status, { message });
    this.name = 'GatewayError';
    this.headers = headers;
  }
}
