/**
 * Edge workers in a cluster: each one configured in switchyard.yaml runs as
 * a sidecar container of the gateway pod, listening on loopback only, with
 * the same Deno permission flags the local fleet uses (the command line
 * comes from `@switchyard/fleet-config/edge-host`), a memory limit of its
 * V8 heap plus headroom, a read-only root and no capabilities. Its module
 * and entry come from the `switchyard-config` ConfigMap, mounted read-only
 * (the module is part of the config: changing it rolls the pods like any
 * config change). The gateway calls each sidecar at its `endpoint` and never
 * starts Deno itself; the kubelet supervises the sidecars through their
 * probes (a host spinning in a busy loop stops answering its liveness probe
 * and is restarted).
 */
import { readFileSync } from 'node:fs';
import { edgeEntrySource, edgeHostArgs, edgeHostTelemetryEnv, edgeServiceName } from '@switchyard/fleet-config/edge-host';
import type { EdgeWorkerConfig, FleetConfig } from '@switchyard/fleet-config/schema';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { CONFIG_MAP } from '../naming.ts';
import type { RenderOptions } from './options.ts';
import { CONTAINER_SECURITY } from './pod-defaults.ts';

/** Where a sidecar finds its module and entry (its own items of the config ConfigMap). */
export const EDGE_MODULE_DIR = '/etc/switchyard/edge';
/** The host program in the edge-worker image (see mesh/docker/edge-worker.Dockerfile). */
export const EDGE_HOST_IN_IMAGE = '/opt/switchyard/edge/host/deno-host.ts';
/** The model binding the gateway serves on loopback for its sidecars. */
export const EDGE_BINDING_PORT = 8091;
/** Sidecars listen on 127.0.0.1 from this port up, one each, in name order. */
export const EDGE_FIRST_PORT = 8100;
/** Beyond the V8 heap: Deno's runtime, code and young generation (~41 MB RSS idle). */
export const EDGE_MEMORY_HEADROOM_MB = 96;
/** The health path the host answers itself (gateway requests always carry the edge context). */
const HEALTH_PATH = '/healthz';

/** Each edge worker's loopback port in the gateway pod. */
export function edgePorts(config: FleetConfig): Map<string, number> {
  return new Map(Object.keys(config.edge_workers).sort().map((name, i) => [name, EDGE_FIRST_PORT + i]));
}

/** The module texts, read from the files switchyard.yaml names (paths already resolved by the loader). */
export function readEdgeModules(config: FleetConfig): Record<string, string> {
  return Object.fromEntries(Object.entries(config.edge_workers).map(([name, spec]) => [name, readFileSync(spec.module, 'utf8')]));
}

const moduleKey = (name: string) => `edge-${name}.ts`;
const entryKey = (name: string) => `edge-${name}.entry.ts`;

/** The ConfigMap entries for the edge workers: each module and an entry that imports it and the host. */
export function edgeConfigMapData(config: FleetConfig, { edgeModules }: RenderOptions): Record<string, string> {
  const data: Record<string, string> = {};
  for (const name of Object.keys(config.edge_workers)) {
    const text = edgeModules[name];
    if (text === undefined) throw new Error(`edge worker '${name}': no module text to render`);
    data[moduleKey(name)] = text;
    data[entryKey(name)] = edgeEntrySource(`./${name}.ts`, EDGE_HOST_IN_IMAGE);
  }
  return data;
}

/**
 * An edge worker as the in-cluster gateway sees it: at its sidecar's
 * address, the module where the sidecar has it. Every worker runs isolated
 * in a cluster, `inline` ones too (that mode is for trusted code on a laptop
 * and for tests).
 */
export function clusterEdgeWorker(name: string, spec: EdgeWorkerConfig, port: number): EdgeWorkerConfig {
  return { ...spec, module: `${EDGE_MODULE_DIR}/${name}.ts`, endpoint: `127.0.0.1:${port}`, isolation: 'process' };
}

/**
 * The probe: an HTTP GET of the host's health path over bash's /dev/tcp (the
 * kubelet's httpGet reaches the pod IP, and the host listens on loopback only).
 * A host stuck in a busy loop still accepts the connection but never answers.
 */
function healthProbe(port: number, periodSeconds: number) {
  const script = `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET ${HEALTH_PATH} HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 1 head -c 12 <&3 | grep -q ' 200'`;
  return { exec: { command: ['bash', '-c', script] }, periodSeconds, timeoutSeconds: 2, failureThreshold: 3 };
}

export function edgeSidecars(config: FleetConfig, options: RenderOptions): IContainer[] {
  const ports = edgePorts(config);
  const binding = `127.0.0.1:${EDGE_BINDING_PORT}`;
  return Object.entries(config.edge_workers).map(([name, spec]) => {
    const port = ports.get(name) as number;
    const memory = `${spec.memory_mb + EDGE_MEMORY_HEADROOM_MB}Mi`;
    const telemetry = edgeHostTelemetryEnv(edgeServiceName(name), { endpoint: options.otlpEndpoint });
    return {
      name: `edge-${name}`,
      image: options.edgeImage,
      command: ['deno'],
      args: edgeHostArgs({
        listen: `127.0.0.1:${port}`, binding, spec, entry: `${EDGE_MODULE_DIR}/${name}.entry.ts`,
        settings: { port, binding: `http://${binding}`, vars: spec.vars, tracing: true },
      }),
      env: [
        // Deno's compile cache; the root filesystem is read-only.
        { name: 'DENO_DIR', value: '/tmp/deno' },
        { name: 'NO_COLOR', value: '1' },
        ...Object.entries(telemetry).map(([key, value]) => ({ name: key, value })),
      ],
      startupProbe: { ...healthProbe(port, 2), failureThreshold: 30 },
      readinessProbe: healthProbe(port, 5),
      livenessProbe: healthProbe(port, 5),
      resources: { requests: { cpu: '50m', memory }, limits: { cpu: '1', memory } },
      securityContext: CONTAINER_SECURITY,
      volumeMounts: [
        { name: `edge-${name}`, mountPath: EDGE_MODULE_DIR, readOnly: true },
        { name: `edge-${name}-tmp`, mountPath: '/tmp' },
      ],
    };
  });
}

export function edgeVolumes(config: FleetConfig): IVolume[] {
  return Object.keys(config.edge_workers).flatMap((name) => [
    { name: `edge-${name}`, configMap: { name: CONFIG_MAP, items: [{ key: moduleKey(name), path: `${name}.ts` }, { key: entryKey(name), path: `${name}.entry.ts` }] } },
    { name: `edge-${name}-tmp`, emptyDir: { sizeLimit: '64Mi' } },
  ]);
}
