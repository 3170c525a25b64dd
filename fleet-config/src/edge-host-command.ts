/**
 * The Deno command line of an edge worker's host, shared by the gateway
 * (which starts the process itself on a laptop) and the mesh renderer
 * (which writes it into the gateway pod's sidecar), so both grant exactly
 * the same permissions: listen on its own loopback address, reach the
 * gateway's model binding and the hosts the config names; no env, files,
 * subprocesses or FFI; a V8 heap limit.
 */
import type { EdgeWorkerConfig } from './fleet-config.ts';

/** What the host reads at start: from its stdin (started by a gateway) or its last argument (a sidecar). */
export interface EdgeHostSettings {
  /** Loopback port the host listens on. */
  port: number;
  /** Base URL of the gateway's model binding, e.g. `http://127.0.0.1:8091`. */
  binding: string;
  /** The binding's secret. Absent: each request from the gateway carries it (a sidecar's settings are in its pod spec). */
  token?: string;
  vars: Record<string, string>;
  /** Deno's built-in OpenTelemetry is on: the host lets `fetch` propagate its own span's `traceparent`. */
  tracing?: boolean;
}

export interface EdgeHostCommand {
  /** Where the host listens, `127.0.0.1:<port>`. */
  listen: string;
  /** `host:port` of the gateway's model binding. */
  binding: string;
  spec: Pick<EdgeWorkerConfig, 'allow_net' | 'memory_mb'>;
  /** The entry module: imports the user's module and the host, and serves. */
  entry: string;
  /** Settings passed as the last argument (a sidecar); without them the host reads its stdin. */
  settings?: EdgeHostSettings;
}

/** Arguments after the `deno` binary. */
export function edgeHostArgs({ listen, binding, spec, entry, settings }: EdgeHostCommand): string[] {
  const allowNet = [listen, binding, ...spec.allow_net].join(',');
  return [
    'run', '--quiet', '--no-prompt', '--no-config', '--no-lock',
    `--allow-net=${allowNet}`,
    // Deno imports from a few public hosts by default (jsr.io, deno.land, esm.sh, …): each import is a
    // request out of the sandbox. Naming the host's own listen address instead leaves no import host.
    `--allow-import=${listen}`,
    `--v8-flags=--max-old-space-size=${spec.memory_mb}`,
    entry,
    ...(settings ? [JSON.stringify(settings)] : []),
  ];
}

/** Where an edge host exports spans: OTLP over HTTP. */
export interface EdgeTelemetry {
  endpoint: string;
  /** `http/protobuf` (Deno's default) or `http/json`. */
  protocol?: string;
  /** The batch span processor's delay (`OTEL_BSP_SCHEDULE_DELAY`). */
  scheduleDelayMs?: string;
}

/** The service name an edge worker's spans carry. */
export const edgeServiceName = (worker: string): string => `switchyard-edge-${worker}`;

/**
 * Environment variables that turn on Deno's built-in OpenTelemetry: a server
 * span per request and `traceparent` on every `fetch`. Its exporter runs in
 * Deno's runtime, outside the module's permissions: the module gets no
 * network access to the collector. The host never decides sampling itself:
 * it records a request exactly when the gateway sampled it (the gateway's
 * `traceparent` flags), and nothing without one.
 */
export function edgeHostTelemetryEnv(service: string, otlp: EdgeTelemetry): Record<string, string> {
  return {
    OTEL_DENO: 'true',
    OTEL_SERVICE_NAME: service,
    OTEL_TRACES_SAMPLER: 'parentbased_always_off',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint,
    ...(otlp.protocol ? { OTEL_EXPORTER_OTLP_PROTOCOL: otlp.protocol } : {}),
    ...(otlp.scheduleDelayMs ? { OTEL_BSP_SCHEDULE_DELAY: otlp.scheduleDelayMs } : {}),
  };
}

/** The entry Deno runs: imports the user's module and the host statically (no computed imports, so no read permission). */
export function edgeEntrySource(moduleSpecifier: string, hostSpecifier: string): string {
  return `import worker from ${JSON.stringify(moduleSpecifier)};\nimport { serveEdgeWorker } from ${JSON.stringify(hostSpecifier)};\nawait serveEdgeWorker(worker);\n`;
}
