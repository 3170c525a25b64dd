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

/**
 * The feed for one wire tensor. FP16 data travels as `Uint16Array` bits. Where
 * the runtime has a global `Float16Array` (Deno), `new ort.Tensor('float16',
 * Uint16Array)` converts the data to a `Float16Array` view, and Deno's N-API
 * reports 0 bytes for it (ORT: "not enough space: expected N, got 0"). The
 * binding reads a feed's `type`, `dims`, `location` and `data` properties, so
 * an FP16 feed is passed as that plain value with the `Uint16Array`, which
 * N-API reads on Node and on Deno alike.
 * @param {WireTensor} t
 * @returns {ort.Tensor}
 */
function feedOf(t) {
  if (t.type === 'float16') return /** @type {ort.Tensor} */ (/** @type {unknown} */ ({ type: t.type, dims: t.dims, data: t.data, location: 'cpu' }));
  return new ort.Tensor(t.type, /** @type {ort.Tensor.DataType} */ (t.data), t.dims);
}

/**
 * An output's data as it crosses the thread boundary. FP16 results come back
 * from `ort.Tensor` as a `Float16Array` where the runtime has one (Deno):
 * the same bytes are sent as `Uint16Array` bits, as on Node.
 * @param {ort.Tensor} value
 * @returns {WireTensor['data']}
 */
function wireDataOf(value) {
  const data = /** @type {WireTensor['data'] | Uint16Array} */ (value.data);
  if (value.type === 'float16' && ArrayBuffer.isView(data) && !(data instanceof Uint16Array)) {
    return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  }
  return /** @type {WireTensor['data']} */ (data);
}

/** @param {ort.InferenceSession} session @param {Extract<ThreadRequest, { type: 'run' }>} message */
async function run(session, message) {
  /** @type {Record<string, WireTensor>} */
  const outputs = {};
  try {
    /** @type {Record<string, ort.Tensor>} */
    const feeds = {};
    for (const [name, t] of Object.entries(message.feeds)) feeds[name] = feedOf(t);
    const results = await session.run(feeds);
    for (const [name, value] of Object.entries(results)) {
      outputs[name] = { type: value.type, data: wireDataOf(value), dims: value.dims };
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
