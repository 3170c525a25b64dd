/**
 * `switchyard edge test <module>`: runs an edge-worker module for local
 * development exactly as the gateway runs it — its own least-privilege Deno
 * process, behind a real gateway pipeline — in front of a real model
 * worker (`modelUrl`) or a stub that answers every inference with a fixed
 * v2 response, and sends it one request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { parseFleetConfig } from '@switchyard/fleet-config/load';
import { createLogger } from '@switchyard/observability/logger';
import { createGateway } from '../create-gateway.ts';

export const DEFAULT_STUB_ANSWER = { model_name: 'stub', model_version: '1', outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] }] };

export interface EdgeTestOptions {
  module: string;
  /** The model name the module sees (`ctx.model`) and may call. Default `seed-classifier`. */
  model?: string;
  /** Request path. Default `/predict`. */
  path?: string;
  /** Request body. Default empty. */
  data?: string;
  /** A real worker's base URL; without it, a stub answers. */
  modelUrl?: string;
  /** What the stub answers (JSON). Default `DEFAULT_STUB_ANSWER`. */
  stubAnswer?: unknown;
  /** `vars` for the module. */
  vars?: Record<string, string>;
  timeoutMs?: number;
}

export interface EdgeTestResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The requests the stub model received (empty with `modelUrl`). */
  modelCalls: Array<{ path: string; body: string }>;
}

function startStub(answer: unknown, calls: EdgeTestResult['modelCalls']): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url?.startsWith('/v2/health')) return res.end();
      calls.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString() });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

export async function runEdgeTest(options: EdgeTestOptions): Promise<EdgeTestResult> {
  const { model = 'seed-classifier', path = '/predict', data = '', vars = {}, timeoutMs = 2000 } = options;
  const modelCalls: EdgeTestResult['modelCalls'] = [];
  const stub = options.modelUrl ? undefined : await startStub(options.stubAnswer ?? DEFAULT_STUB_ANSWER, modelCalls);
  const upstream = options.modelUrl ?? `http://127.0.0.1:${(stub?.address() as AddressInfo).port}`;
  // A throwaway key: the request passes auth as any client's would.
  const key = `sy_edge_test_${randomBytes(16).toString('hex')}`;
  const ownsPath = !path.startsWith('/v1/') && !path.startsWith('/v2/');
  const config = parseFleetConfig(
    {
      version: 1,
      auth: { api_keys: [{ id: 'edge-test', sha256: createHash('sha256').update(key).digest('hex'), tenant: 'local', scopes: ['infer:*'] }] },
      edge_workers: { 'under-test': { module: resolve(options.module), vars, timeout_ms: timeoutMs } },
      routes: ownsPath ? [{ path, model, edge_worker: 'under-test' }] : [],
      models: { [model]: { stable: 'v1', edge_worker: 'under-test', variants: [{ name: 'v1', version: 1, weight: 100, upstreams: [upstream] }] } },
    },
    'switchyard edge test',
  );
  const gateway = await createGateway({ config, logger: createLogger({ service: 'switchyard-edge-test', level: 'warn' }), serviceVersion: 'edge-test' });
  try {
    const res = await gateway.fetch(new Request(`http://gateway.local${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: data }));
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text(), modelCalls };
  } finally {
    await gateway.close();
    stub?.closeAllConnections();
    await new Promise<void>((done) => (stub ? stub.close(() => done()) : done()));
  }
}
