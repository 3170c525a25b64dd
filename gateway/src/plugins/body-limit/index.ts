/**
 * The body-limit plugin: 413 before reading past the limit, whether the
 * length is declared (`content-length`) or only known while streaming.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { GatewayError } from '../../http/gateway-error.ts';

export interface BodyLimitOptions {
  maxBytes: number;
}

export function bodyLimit({ maxBytes }: BodyLimitOptions): MiddlewareHandler {
  return honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new GatewayError(413, `request body exceeds ${maxBytes} bytes`);
    },
  });
}
