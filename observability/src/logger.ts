/**
 * Structured JSON logs (pino) carrying the active trace and span ids.
 * Credentials are redacted by path; tensor payloads are never passed to
 * the logger in the first place.
 */
import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  /** Default `info`. */
  level?: string;
  /** Default stdout. */
  destination?: DestinationStream;
  /** Fields added to every line. */
  base?: Record<string, string | number>;
}

const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'token',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

export function createLogger(options: LoggerOptions): Logger {
  const { service, level = 'info', destination, base = {} } = options;
  return pino(
    {
      level,
      base: { service, ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      mixin() {
        const spanContext = trace.getActiveSpan()?.spanContext();
        if (!spanContext || spanContext.traceId === '00000000000000000000000000000000') return {};
        return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
      },
    },
    destination,
  );
}
