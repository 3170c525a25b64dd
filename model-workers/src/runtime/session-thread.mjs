// @ts-check
/**
 * Runs inside a worker thread: owns one ONNX Runtime session, so that
 * `session.run` (synchronous in onnxruntime-node) never blocks the worker's
 * event loop. Talks to `create-session.ts` over `postMessage`; the message
 * types are in `session-protocol.ts`.
 *
 * Plain JavaScript on purpose: worker threads do not inherit the
 * TypeScript loader of the process that starts them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

/** @typedef {import('./session-protocol.ts').SessionThreadData} SessionThreadData */
/** @typedef {import('./session-protocol.ts').ThreadRequest} ThreadRequest */
/** @typedef {import('./session-protocol.ts').ThreadReply} ThreadReply */
/** @typedef {import('./session-protocol.ts').WireTensor} WireTensor */

const port = parentPort;
if (!port) throw new Error('session-thread must run in a worker thread');
const { modelPath, providers, sessionOptions } = /** @type {SessionThreadData} */ (workerData);

/** @param {unknown} error */
function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

/** @param {ThreadReply} reply @param {ArrayBuffer[]} [transfer] */
function send(reply, transfer) {
  port?.postMessage(reply, transfer);
}

/** @returns {Promise<ort.InferenceSession | undefined>} */
async function open() {
  /** @type {Array<{ provider: string; reason: string }>} */
  const failures = [];
  for (const provider of providers) {
    try {
      // Severity 4 (fatal) while probing: an unavailable provider is expected and reported by the caller.
      const session = await ort.InferenceSession.create(modelPath, {
        ...sessionOptions,
        executionProviders: [provider],
        logSeverityLevel: provider === 'cpu' ? 3 : 4,
      });
      send({ type: 'ready', provider, failures, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata });
      return session;
    } catch (error) {
      failures.push({ provider, reason: errorText(error) });
    }
  }
  send({ type: 'failed', failures });
  return undefined;
}

/** @param {Record<string, WireTensor>} tensors */
function buffersOf(tensors) {
  /** @type {ArrayBuffer[]} */
  const buffers = [];
  for (const t of Object.values(tensors)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) buffers.push(t.data.buffer);
  return buffers;
}

/** @param {ort.InferenceSession} session @param {Extract<ThreadRequest, { type: 'run' }>} message */
async function run(session, message) {
  /** @type {Record<string, WireTensor>} */
  const outputs = {};
  try {
    /** @type {Record<string, ort.Tensor>} */
    const feeds = {};
    for (const [name, t] of Object.entries(message.feeds)) feeds[name] = new ort.Tensor(t.type, /** @type {ort.Tensor.DataType} */ (t.data), t.dims);
    const results = await session.run(feeds);
    for (const [name, value] of Object.entries(results)) {
      outputs[name] = { type: value.type, data: /** @type {WireTensor['data']} */ (value.data), dims: value.dims };
    }
  } catch (error) {
    send({ type: 'error', id: message.id, message: errorText(error) });
    return;
  }
  try {
    send({ type: 'result', id: message.id, outputs }, buffersOf(outputs));
  } catch {
    // Buffers owned by the native side cannot be detached: send copies.
    send({ type: 'result', id: message.id, outputs });
  }
}

const session = await open();
if (session) {
  port.on('message', (/** @type {ThreadRequest} */ message) => {
    if (message.type === 'release') {
      void session.release().finally(() => send({ type: 'released' }));
    } else {
      void run(session, message);
    }
  });
}
