/**
 * Loaded before a service's entry, `node --import @switchyard/observability/register …`,
 * so that modules the services load through ESM `import` can be patched by
 * OpenTelemetry instrumentations: it registers import-in-the-middle's loader
 * hook for the instrumented packages only (ioredis today). The entry then
 * calls `startTelemetry()` before it imports those packages, as before;
 * without this module, ioredis loaded through ESM is never patched and Redis
 * commands leave no spans.
 *
 * Plain JavaScript: `--import` options are inherited by worker threads
 * (the model worker's ONNX sessions), where no TypeScript loader runs.
 */
import { register } from 'node:module';
/** Packages an instrumentation patches on import (undici needs none: it reports through diagnostics channels). */
const INSTRUMENTED_ESM_MODULES = ['ioredis'];

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: INSTRUMENTED_ESM_MODULES } });
