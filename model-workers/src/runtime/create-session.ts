/**
 * Opens an ONNX Runtime session in its own thread on the first execution
 * provider that works, in configured order, falling back to CPU with one
 * structured warning per provider that could not be used.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@switchyard/observability/logger';
import type { InferenceSession } from 'onnxruntime-node';
import type { ExecutionProvider } from '../repository/model-config.ts';
import type { SessionThreadData, ThreadReply, WireTensor } from './session-protocol.ts';

const THREAD_ENTRY = new URL('./session-thread.mjs', import.meta.url);

export interface SessionOptions {
  providers: readonly ExecutionProvider[];
  intraOpThreads: number;
  interOpThreads: number;
  allowSpinning: boolean;
  logger: Logger;
}

/** A session living in a worker thread. */
export interface ThreadedSession {
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
  /** Runs the model; typed-array inputs are transferred to the thread (unusable afterwards). */
  run(feeds: Record<string, WireTensor>): Promise<Record<string, WireTensor>>;
  release(): Promise<void>;
}

export interface CreatedSession {
  session: ThreadedSession;
  provider: ExecutionProvider;
}

function transferList(feeds: Record<string, WireTensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const t of Object.values(feeds)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer);
  return [...seen];
}

/**
 * Why a provider cannot work on this machine without trying it, or undefined.
 * onnxruntime-node ships the CUDA and TensorRT providers as separate shared
 * libraries that only a GPU install downloads; probing a missing one makes
 * ONNX Runtime print a native error, so a missing library is reported here.
 */
export function providerUnavailable(provider: ExecutionProvider): string | undefined {
  if (provider === 'cpu') return undefined;
  if (process.platform !== 'linux' || process.arch !== 'x64') return `onnxruntime-node has no ${provider} provider for ${process.platform}/${process.arch}`;
  const packageDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const library = `libonnxruntime_providers_${provider}.so`;
  if (!existsSync(join(packageDir, 'bin', 'napi-v6', 'linux', 'x64', library))) {
    return `${library} is not installed (a GPU image installs onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12)`;
  }
  return undefined;
}

export async function createSession(modelPath: string, options: SessionOptions): Promise<CreatedSession> {
  const { providers, logger, intraOpThreads, interOpThreads, allowSpinning } = options;
  const spinning = allowSpinning ? '1' : '0';
  const wanted: ExecutionProvider[] = providers.includes('cpu') ? providers.slice(0, providers.indexOf('cpu') + 1) : [...providers, 'cpu'];
  const skipped = wanted.flatMap((provider) => {
    const reason = providerUnavailable(provider);
    return reason ? [{ provider, reason }] : [];
  });
  const order = wanted.filter((provider) => !skipped.some((s) => s.provider === provider));
  const data: SessionThreadData = {
    modelPath,
    providers: [...order],
    sessionOptions: {
      graphOptimizationLevel: 'all',
      ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
      ...(interOpThreads > 0 ? { interOpNumThreads: interOpThreads } : {}),
      extra: { session: { intra_op: { allow_spinning: spinning }, inter_op: { allow_spinning: spinning } } },
    },
  };
  const thread = new Worker(THREAD_ENTRY, { workerData: data });
  const pending = new Map<number, { resolve(outputs: Record<string, WireTensor>): void; reject(error: Error): void }>();
  let nextId = 0;
  let broken: Error | undefined;
  let released: (() => void) | undefined;

  const ready = await new Promise<Extract<ThreadReply, { type: 'ready' }>>((resolve, reject) => {
    thread.once('error', reject);
    thread.once('message', (reply: ThreadReply) => {
      thread.off('error', reject);
      if (reply.type === 'ready') resolve(reply);
      else if (reply.type === 'failed') reject(new Error(reply.failures.at(-1)?.reason ?? 'no execution provider could load the model'));
      else reject(new Error(`unexpected reply from session thread: ${reply.type}`));
    });
  }).catch(async (error: unknown) => {
    await thread.terminate();
    throw error;
  });

  // One structured warning per provider that could not be used, naming the one that serves instead.
  for (const { provider, reason } of [...skipped, ...ready.failures]) {
    logger.warn({ model_path: modelPath, provider, reason, fallback: ready.provider }, `execution provider ${provider} is not available; using ${ready.provider}`);
  }
  logger.info({ model_path: modelPath, provider: ready.provider }, 'execution provider selected');

  const fail = (error: Error): void => {
    broken = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  thread.on('message', (reply: ThreadReply) => {
    if (reply.type === 'released') return released?.();
    if (reply.type !== 'result' && reply.type !== 'error') return;
    const waiter = pending.get((reply).id);
    pending.delete(reply.id);
    if (reply.type === 'result') waiter?.resolve(reply.outputs);
    else waiter?.reject(new Error(reply.message));
  });
  thread.on('error', (error) => fail(error));
  thread.on('exit', (code) => fail(new Error(`session thread exited (code ${code})`)));

  return {
    provider: ready.provider as ExecutionProvider,
    session: {
      inputMetadata: ready.inputMetadata,
      outputMetadata: ready.outputMetadata,
      run(feeds) {
        if (broken) return Promise.reject(broken);
        const id = nextId++;
        return new Promise((resolve, reject) => {
          pending.set(id, { resolve, reject });
          thread.postMessage({ type: 'run', id, feeds }, transferList(feeds));
        });
      },
      async release() {
        if (broken) return;
        const done = new Promise<void>((resolve) => (released = resolve));
        thread.postMessage({ type: 'release' });
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000).unref())]);
        broken = new Error('session released');
        await thread.terminate();
      },
    },
  };
}
