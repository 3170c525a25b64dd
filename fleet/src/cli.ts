#!/usr/bin/env node
/**
 * `npm start`: runs the whole fleet on this machine from `switchyard.yaml`.
 * Checks every port first, writes the sample models if they are missing,
 * starts one worker process per local variant replica, then the gateway;
 * prints the gateway URL, a development API key and a curl line. Crashed
 * processes are restarted with backoff; edits to the file start and stop
 * workers; Ctrl-C, SIGTERM, a closed output pipe or the end of the parent
 * stops everything gracefully.
 */
import { existsSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { createInferenceClient } from '@switchyard/grpc/client';
import { SAMPLE_MODELS, writeSampleRepository } from '@switchyard/model-worker/samples';
import { desiredWorkers } from './desired-services.ts';
import { mintDevKey } from './dev-key.ts';
import { LocalFleet } from './local-fleet.ts';
import { portConflicts } from './preflight.ts';
import { serviceRuntimeFrom, type ServiceRuntime } from './service-process.ts';

const USAGE = `usage: npm start            run the local fleet described by switchyard.yaml
       SWITCHYARD_CONFIG=<file> npm start   use another fleet file
       SWITCHYARD_RUNTIME=deno npm start    run the workers and the gateway on Deno (deno run -A)
       npm run start:prod   the same from the compiled build (npm run build)`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

const configPath = resolve(process.env.SWITCHYARD_CONFIG ?? 'switchyard.yaml');
let runtime: ServiceRuntime;
try {
  runtime = serviceRuntimeFrom(process.env.SWITCHYARD_RUNTIME);
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  process.exit(2);
}
// Local state (the dev key) lives next to the fleet file it belongs to.
const stateDir = join(dirname(configPath), '.switchyard');
let outputClosed = false;
const write = (text: string): void => {
  if (!outputClosed) process.stdout.write(text);
};
const log = (message: string): void => write(`[fleet] ${message}\n`);

let config: FleetConfig;
try {
  config = await loadFleetConfig(configPath);
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  process.exit(1);
}

// Every port must be free before anything starts (and before the dev key is written).
const conflicts = await portConflicts([
  { port: config.gateway.port, host: config.gateway.host, owner: 'gateway' },
  { port: config.gateway.admin_port, host: config.gateway.admin_host, owner: 'admin API' },
  ...(config.gateway.grpc_port === undefined ? [] : [{ port: config.gateway.grpc_port, host: config.gateway.host, owner: 'gateway gRPC' }]),
  ...desiredWorkers(config).flatMap((w) => [
    { port: w.port, host: '127.0.0.1', owner: `worker ${w.key}` },
    { port: w.grpcPort, host: '127.0.0.1', owner: `worker ${w.key} gRPC` },
  ]),
]);
if (conflicts.length > 0) {
  for (const conflict of conflicts) console.error(`switchyard: ${conflict}`);
  process.exit(1);
}

const repository = resolve(config.model_repository);
async function writeMissingSamples(next: FleetConfig): Promise<void> {
  const missing = SAMPLE_MODELS.filter((m) => Object.hasOwn(next.models, m) && !existsSync(join(repository, m)));
  if (missing.length === 0) return;
  log(`writing sample models to ${repository} …`);
  for (const { model, version, trainingAccuracy } of await writeSampleRepository(repository, { models: missing })) {
    log(`  ${model} v${version}${trainingAccuracy === undefined ? '' : ` (training accuracy ${(trainingAccuracy * 100).toFixed(1)}%)`}`);
  }
}
await writeMissingSamples(config);

const devKey = await mintDevKey(join(stateDir, 'dev-api-key'));
const fleet = new LocalFleet({
  configPath,
  repository,
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
  gatewayEnv: { SWITCHYARD_DEV_KEY_SHA256: devKey.sha256 },
  runtime,
  report: log,
  onLine: (name, line) => write(`[${name}] ${line}\n`),
});

let stopping = false;
async function stopAll(code: number, reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`stopping (${reason})…`);
  await fleet.stop();
  log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0, 'SIGINT'));
process.on('SIGTERM', () => void stopAll(0, 'SIGTERM'));
process.on('SIGHUP', () => void stopAll(0, 'SIGHUP'));
// `npm start | head`: once nobody reads the output, the fleet stops rather than run unseen.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  outputClosed = true;
  void stopAll(error.code === 'EPIPE' ? 0 : 1, 'output closed');
});
// When whoever started the runner (npm, a shell) is gone, stop too: nothing would stop the fleet otherwise.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void stopAll(0, 'parent exited');
}, 500).unref();

try {
  const gateway = await fleet.start(config);
  for (let i = 0; i < 100 && (await fetch(`${gateway.url}/v2/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));

  // Edits to the fleet file start and stop workers; the gateway reloads the file itself.
  let timer: NodeJS.Timeout | undefined;
  watch(dirname(configPath), (_, file) => {
    if (file !== null && file !== basename(configPath) && file !== '..data') return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      void (async () => {
        try {
          const next = await loadFleetConfig(configPath);
          await writeMissingSamples(next);
          await fleet.reconcile(next);
        } catch (error) {
          log(`fleet config not applied: ${(error as Error).message}`);
        }
      })();
    }, 200);
  }).unref();

  const grpcAddress = config.gateway.grpc_port === undefined ? undefined : `${config.gateway.host}:${config.gateway.grpc_port}`;
  let grpcLine = 'off (set gateway.grpc_port)';
  if (grpcAddress) {
    const probe = createInferenceClient(grpcAddress);
    const live = await probe.serverLive({ timeoutMs: 2000 }).then(() => true, () => false);
    probe.close();
    grpcLine = live ? `${grpcAddress}   (inference.GRPCInferenceService)` : `${grpcAddress} configured, but the gateway does not answer gRPC there`;
  }

  const model = Object.hasOwn(config.models, 'seed-classifier') ? 'seed-classifier' : undefined;
  const example = model
    ? `curl -si ${gateway.url}/v2/models/${model}/infer \\
    -H "authorization: Bearer ${devKey.key}" -H 'content-type: application/json' \\
    -d '{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [0.1, 0.2]}]}'`
    : `curl -si ${gateway.url}/v2/models/${Object.keys(config.models)[0] ?? ''} -H "authorization: Bearer ${devKey.key}"`;
  // The seed's own call, served by its edge worker, when the config routes /predict.
  const predict = config.routes.some((r) => r.path === '/predict')
    ? `\n  curl -X POST -H "Content-Type: application/json" -H "authorization: Bearer ${devKey.key}" \\
    -d '{"feature": "1.0,2.0"}' ${gateway.url}/predict\n`
    : '';
  write(`
Switchyard fleet is running.
  gateway:  ${gateway.url}
  gRPC:     ${grpcLine}
  admin:    http://${config.gateway.admin_host}:${config.gateway.admin_port}   (npm run switchyard -- status)
  models:   ${Object.keys(config.models).join(', ')}
  dev key:  ${devKey.key}   (also in ${devKey.path}; valid until the fleet stops)
  redis:    ${process.env.REDIS_URL ?? 'none (flags and rate limits are in-process)'}
  runtime:  ${runtime === 'deno' ? 'deno (deno run -A; SWITCHYARD_RUNTIME=deno)' : 'node'}

Try:
  ${example}
${predict}
Edit ${basename(configPath)} to add or remove variants while it runs. Press Ctrl-C to stop.
`);
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  await stopAll(1, 'start-up failed');
}
