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
  /**
   * Stdout only: lines are gathered up to this many bytes and written in
   * one call, and at least every `LOG_FLUSH_INTERVAL_MS` and at exit; 0
   * writes each line as it is logged. Default 0.
   */
  bufferBytes?: number;
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

/** Largest stdout buffer: one write of pino's destination carries at most 16 KiB. */
export const MAX_LOG_BUFFER_BYTES = 16_383;

/** Longest a buffered line waits before it is written. */
export const LOG_FLUSH_INTERVAL_MS = 100;

/**
 * Stdout through a synchronous sonic-boom (pino's own destination). With a
 * buffer, one write carries many lines — a request's access-log line costs
 * no system call of its own — and nothing is lost on a normal exit, a fatal
 * error or a signal the service handles: the buffer is written at
 * `process.exit`. A process killed outright (SIGKILL, out of memory) loses
 * at most the last `LOG_FLUSH_INTERVAL_MS` of lines.
 */
function stdoutDestination(bufferBytes: number): DestinationStream {
  if (bufferBytes <= 0) return pino.destination({ dest: 1, sync: true });
  const stream = pino.destination({ dest: 1, sync: true, minLength: Math.min(bufferBytes, MAX_LOG_BUFFER_BYTES) });
  const flush = (sync: boolean) => (): void => {
    try {
      // `flushSync` also fsyncs: once at exit, not ten times a second on a file.
      if (sync) stream.flushSync();
      else stream.flush();
    } catch {
      // Nothing to write, or stdout is gone (EPIPE is handled by the destination).
    }
  };
  setInterval(flush(false), LOG_FLUSH_INTERVAL_MS).unref();
  process.once('exit', flush(true));
  return stream;
}

export function createLogger(options: LoggerOptions): Logger {
  const { service, level = 'info', base = {}, bufferBytes = 0 } = options;
  const destination = options.destination ?? stdoutDestination(bufferBytes);
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
