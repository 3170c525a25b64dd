#!/usr/bin/env node
/**
 * `npm start`: runs the whole fleet on this machine from `switchyard.yaml`.
 * Writes the sample models if they are missing, starts one worker process
 * per local variant replica, then the gateway; prints the gateway URL, a
 * development API key and a curl line. Crashed processes are restarted with
 * backoff; Ctrl-C or SIGTERM stops everything gracefully.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SAMPLE_MODELS, writeSampleRepository } from '@switchyard/model-worker/samples';
import { variantGrpcPorts, variantUpstreams } from '@switchyard/fleet-config/schema';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { createInferenceClient } from '@switchyard/grpc/client';
import { mintDevKey } from './dev-key.ts';
import { Supervisor } from './supervisor.ts';
import { startGatewayProcess, startWorkerProcess } from './worker-process.ts';

const configPath = resolve(process.env.SWITCHYARD_CONFIG ?? 'switchyard.yaml');
const stateDir = resolve('.switchyard');
const log = (message: string): void => console.log(`[fleet] ${message}`);

let config;
try {
  config = await loadFleetConfig(configPath);
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  process.exit(1);
}

const repository = resolve(config.model_repository);
const missingSamples = SAMPLE_MODELS.filter((m) => m in config.models && !existsSync(join(repository, m)));
if (missingSamples.length > 0) {
  log(`writing sample models to ${repository} …`);
  for (const { model, version, trainingAccuracy } of await writeSampleRepository(repository, { models: missingSamples })) {
    log(`  ${model} v${version}${trainingAccuracy === undefined ? '' : ` (training accuracy ${(trainingAccuracy * 100).toFixed(1)}%)`}`);
  }
}

const prefixed = (name: string) => (line: string) => process.stdout.write(`[${name}] ${line}\n`);
const logLevel = process.env.LOG_LEVEL ?? 'info';
const supervisors: Supervisor[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (stopping) return new Promise(() => undefined);
  stopping = true;
  log('stopping…');
  const [gateway, ...workers] = [...supervisors].reverse();
  await gateway?.stop();
  await Promise.all(workers.map((s) => s.stop()));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const workerStarts: Array<Promise<unknown>> = [];
  for (const [model, spec] of Object.entries(config.models)) {
    for (const variant of spec.variants) {
      if (variant.port === undefined) continue; // remote upstreams are not ours to run
      const grpcPorts = variantGrpcPorts(variant);
      variantUpstreams(variant).forEach((url, replica) => {
        const name = `${model}/${variant.name}#${replica}`;
        const supervisor = new Supervisor({
          name: `worker ${name}`,
          report: log,
          start: () =>
            startWorkerProcess({
              model, repository, versions: [variant.version], name, port: Number(new URL(url).port),
              env: { LOG_LEVEL: logLevel, SWITCHYARD_VARIANT: variant.name, SWITCHYARD_POOL: variant.pool, GRPC_PORT: String(grpcPorts[replica]) },
              onLine: prefixed(name),
            }),
        });
        supervisors.push(supervisor);
        workerStarts.push(supervisor.start());
      });
    }
  }
  await Promise.all(workerStarts);

  const devKey = await mintDevKey(join(stateDir, 'dev-api-key'));
  const gatewayEnv: Record<string, string> = { SWITCHYARD_DEV_KEY_SHA256: devKey.sha256, LOG_LEVEL: logLevel };
  const gatewaySupervisor = new Supervisor({
    name: 'gateway',
    report: log,
    start: () =>
      startGatewayProcess({ configPath, port: config.gateway.port, host: config.gateway.host, env: gatewayEnv, onLine: prefixed('gateway') }),
  });
  supervisors.push(gatewaySupervisor);
  const gateway = await gatewaySupervisor.start();
  for (let i = 0; i < 100 && (await fetch(`${gateway.url}/v2/health/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));

  const grpcAddress = config.gateway.grpc_port === undefined ? undefined : `${config.gateway.host}:${config.gateway.grpc_port}`;
  let grpcLine = 'off (set gateway.grpc_port)';
  if (grpcAddress) {
    const probe = createInferenceClient(grpcAddress);
    const live = await probe.serverLive({ timeoutMs: 2000 }).then(() => true, () => false);
    probe.close();
    grpcLine = live ? `${grpcAddress}   (inference.GRPCInferenceService)` : `${grpcAddress} configured, but the gateway does not answer gRPC there`;
  }

  const model = 'seed-classifier' in config.models ? 'seed-classifier' : undefined;
  const example = model
    ? `curl -si ${gateway.url}/v2/models/${model}/infer \\
    -H "authorization: Bearer ${devKey.key}" -H 'content-type: application/json' \\
    -d '{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 2], "data": [0.1, 0.2]}]}'`
    : `curl -si ${gateway.url}/v2/models/${Object.keys(config.models)[0] ?? ''} -H "authorization: Bearer ${devKey.key}"`;
  console.log(`
Switchyard fleet is running.
  gateway:  ${gateway.url}
  gRPC:     ${grpcLine}
  admin:    http://${config.gateway.admin_host}:${config.gateway.admin_port}   (npm run switchyard -- status)
  models:   ${Object.keys(config.models).join(', ')}
  dev key:  ${devKey.key}   (also in ${devKey.path}; valid until the fleet stops)
  redis:    ${process.env.REDIS_URL ?? 'none (flags and rate limits are in-process)'}

Try:
  ${example}

Press Ctrl-C to stop.`);
} catch (error) {
  console.error(`switchyard: ${(error as Error).message}`);
  await stopAll(1);
}
