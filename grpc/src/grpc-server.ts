/**
 * The gRPC transport of a Switchyard service: `inference.GRPCInferenceService`
 * on its own port, where every call becomes the equivalent v2 REST request
 * (call metadata as headers: `authorization`, the user header,
 * `traceparent`, …) and runs through the service's own fetch handler — the
 * worker's app or the gateway's whole plugin pipeline — so both transports
 * share every decision. The REST answer comes back as the gRPC reply, or as
 * a status code carrying the REST error message.
 */
import {
  type Metadata, Server, ServerCredentials, status as GrpcStatus,
  type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { failureOf, responseMetadata } from './grpc-status.ts';
import { modelConfigCall, modelConfigReply } from './model-config.ts';
import type { ModelInferRequest, ModelRef } from './messages.ts';
import {
  INFERENCE_HEADER_LENGTH, modelInferCall, modelInferReply, modelMetadataCall, modelMetadataReply, modelReadyCall, parseRestBody, serverMetadataReply,
  type RestCall, type TensorBody,
} from './rest-translation.ts';
import { inferenceService } from './service-definition.ts';
import { TensorCodecError } from './tensor-codec.ts';
import {
  modelStatisticsCall, modelStatisticsReply, repositoryIndexCall, repositoryIndexReply,
  type ModelStatisticsRequest, type RepositoryIndexRequest,
} from './triton-extensions.ts';

/**
 * What the transport passes as the fetch handler's second argument when
 * `runtimeBindings` is on: the same hooks as the gateway's runtime
 * bindings (the call's body, its headers as one object, whether the caller
 * has gone), so the handler builds no web body stream per call.
 */
export interface GrpcCallBindings {
  readBody(): AsyncIterable<Uint8Array> | undefined;
  headers(): Record<string, string>;
  clientGone(): boolean;
}

export type FetchHandler = (request: Request, bindings?: GrpcCallBindings) => Response | Promise<Response>;

/** What the transport logs: faults of its own, never payloads. */
export interface GrpcServerLogger {
  error(fields: Record<string, unknown>, message: string): void;
}

export interface GrpcServerOptions {
  /** The service's fetch handler (the same one its HTTP server runs). */
  fetch: FetchHandler;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /**
   * How ModelInfer tensors reach the service: `json` (`data` arrays; what
   * every v2 server reads) or `binary` (Triton's binary tensor extension;
   * raw bytes pass through untouched). Default `json`.
   */
  tensorBody?: TensorBody;
  /**
   * Answer ModelConfig, ModelStatistics and RepositoryIndex through the
   * service's REST forms of Triton's model configuration, statistics and
   * model repository extensions. Leave it off (the calls answer
   * UNIMPLEMENTED) for a service that does not serve them. Default false.
   */
  tritonExtensions?: boolean;
  /**
   * Hand the request body to the fetch handler through `GrpcCallBindings`
   * (its second argument) instead of inside the `Request`, which then has
   * no body and no abort signal: a cancelled call shows in `clientGone()`.
   * Only for a handler that reads its body and the caller's presence
   * through such bindings (the gateway); it spares a web body stream and
   * an abort signal per call. Default false.
   */
  runtimeBindings?: boolean;
  /**
   * The whole body of an answer, when the service can give it without a
   * body stream (e.g. `bytesOf` of the service's runtime bindings);
   * undefined to read it from the response. Default: always read.
   */
  bodyOf?: (response: Response) => Uint8Array | undefined;
  /** Largest message received or sent, in bytes. Default 64 MiB. */
  maxMessageBytes?: number;
  logger?: GrpcServerLogger;
}

export interface GrpcServer {
  /** The port actually bound. */
  port: number;
  /** Stops taking calls and resolves once calls in flight have finished. */
  close(): Promise<void>;
  /** Cancels calls in flight and stops at once. */
  forceClose(): void;
}

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Metadata that describes the HTTP/2 exchange itself rather than the caller. */
const TRANSPORT_KEYS = new Set(['content-type', 'content-length', 'content-encoding', 'te', 'host', 'connection', 'user-agent', 'accept-encoding', 'transfer-encoding', 'keep-alive']);

/** The call's headers as one object with lower-case names (metadata keys are lower-case). */
function requestHeaders(metadata: Metadata, rest: RestCall): Record<string, string> {
  // No prototype: a metadata key such as `__proto__` stays a plain key.
  const headers = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (typeof value !== 'string' || TRANSPORT_KEYS.has(key) || key === INFERENCE_HEADER_LENGTH || key.startsWith('grpc-') || key.startsWith(':') || key.endsWith('-bin')) continue;
    headers[key] = value;
  }
  if (rest.body !== undefined) headers['content-type'] = 'application/json';
  for (const [key, value] of Object.entries(rest.headers ?? {})) headers[key] = value;
  return headers;
}

const utf8 = new TextDecoder();

const encoder = new TextEncoder();

/** The body as one chunk, for a handler that iterates it as it would a socket. */
function chunksOf(body: string | Uint8Array): AsyncIterable<Uint8Array> {
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  return {
    [Symbol.asyncIterator]() {
      let done = false;
      return {
        next: (): Promise<IteratorResult<Uint8Array>> => {
          if (done) return Promise.resolve({ done: true, value: undefined });
          done = true;
          return Promise.resolve({ done: false, value: bytes });
        },
      };
    },
  };
}

function callBindings(call: ServerUnaryCall<unknown, unknown>, headers: Record<string, string>, body: string | Uint8Array | undefined): GrpcCallBindings {
  return {
    readBody: () => (body === undefined ? undefined : chunksOf(body)),
    headers: () => headers,
    clientGone: () => call.cancelled,
  };
}

const requestUrl = Symbol('url');
const requestMethod = Symbol('method');
const requestHeadersKey = Symbol('headers');
const plainHeaders = Symbol('plainHeaders');
const fullRequest = Symbol('fullRequest');

interface CallRequestFields {
  [requestUrl]: string;
  [requestMethod]: string;
  [plainHeaders]: Record<string, string>;
  [requestHeadersKey]?: Headers;
  [fullRequest]?: Request;
}

const headersOf = (self: CallRequestFields): Headers => (self[requestHeadersKey] ??= new Headers(self[plainHeaders]));
const fullRequestOf = (self: CallRequestFields): Request => (self[fullRequest] ??= new Request(self[requestUrl], { method: self[requestMethod], headers: headersOf(self) }));

/**
 * The `Request` a call hands to a handler that reads its body and headers
 * through `GrpcCallBindings`: url and method as given, headers built on
 * first use, and anything else from a standard `Request` made on first use
 * (without body or abort signal: the bindings carry those). Building no
 * `Request` per call is what it is for.
 */
const callRequestPrototype: ThisType<CallRequestFields> & Record<string | symbol, unknown> = {
  get url() {
    return this[requestUrl];
  },
  get method() {
    return this[requestMethod];
  },
  get headers() {
    return headersOf(this);
  },
};
for (const key of Reflect.ownKeys(Request.prototype)) {
  if (key === 'constructor' || Object.hasOwn(callRequestPrototype, key)) continue;
  const descriptor = Reflect.getOwnPropertyDescriptor(Request.prototype, key);
  if (typeof descriptor?.value === 'function') {
    const method = descriptor.value as (this: Request, ...args: unknown[]) => unknown;
    Object.defineProperty(callRequestPrototype, key, { value(this: CallRequestFields, ...args: unknown[]) { return method.apply(fullRequestOf(this), args); } });
  } else if (descriptor?.get) {
    const get = descriptor.get as (this: Request) => unknown;
    Object.defineProperty(callRequestPrototype, key, { get(this: CallRequestFields): unknown { return get.call(fullRequestOf(this)); } });
  }
}
Object.setPrototypeOf(callRequestPrototype, Request.prototype);

function callRequest(url: string, method: string, headers: Record<string, string>): Request {
  const request = Object.create(callRequestPrototype) as CallRequestFields;
  request[requestUrl] = url;
  request[requestMethod] = method;
  request[plainHeaders] = headers;
  return request as unknown as Request;
}

interface RestAnswer {
  status: number;
  headers: Headers;
  json: unknown;
  /** The bytes after the JSON header of a binary-extension answer. */
  binary?: Uint8Array;
}

type Reply<T> = { value: T } | { failure: { code: GrpcStatus; details: string; metadata: Metadata } };

function errorMessage(answer: RestAnswer): string {
  const error = (answer.json as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? error : `request failed with HTTP ${answer.status}`;
}

/** Starts the gRPC server; resolves once it listens. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const { fetch, host, logger, tensorBody = 'json', tritonExtensions = false, runtimeBindings = false, bodyOf } = options;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const authority = host.includes(':') ? `[${host}]` : host;
  let origin = `http://${authority}`;

  async function runRest(call: ServerUnaryCall<unknown, unknown>, rest: RestCall): Promise<RestAnswer> {
    // With runtime bindings the handler asks clientGone(); otherwise the request's signal says it.
    const controller = runtimeBindings ? undefined : new AbortController();
    const abort = () => controller?.abort();
    if (controller) call.once('cancelled', abort);
    try {
      const headers = requestHeaders(call.metadata, rest);
      const url = `${origin}${rest.path}`;
      const response = await (controller
        ? fetch(new Request(url, { method: rest.method, headers, signal: controller.signal, ...(rest.body === undefined ? {} : { body: rest.body }) }))
        : fetch(callRequest(url, rest.method, headers), callBindings(call, headers, rest.body)));
      const { status } = response;
      const whole = bodyOf?.(response);
      // Otherwise read status and headers before the body: @hono/node-server's lightweight
      // Response rebuilds itself from its constructor arguments when the body is read, dropping
      // headers that plugins set afterwards (x-request-id, x-switchyard-variant, RateLimit).
      const answerHeaders = whole ? response.headers : new Headers(response.headers);
      const bytes = whole ?? new Uint8Array(await response.arrayBuffer());
      const headerLength = Number(answerHeaders.get(INFERENCE_HEADER_LENGTH) ?? NaN);
      const binary = Number.isSafeInteger(headerLength) && headerLength >= 0 && headerLength <= bytes.byteLength;
      let json: unknown;
      try {
        json = parseRestBody(utf8.decode(binary ? bytes.subarray(0, headerLength) : bytes));
      } catch {
        json = undefined; // errorMessage() then names the HTTP status
      }
      return { status, headers: answerHeaders, json, ...(binary ? { binary: bytes.subarray(headerLength) } : {}) };
    } finally {
      call.removeListener('cancelled', abort);
    }
  }

  /** Runs one unary call: translate, call the service, translate back; every failure is a status. */
  function unary<Req, Res>(translate: (request: Req) => RestCall, reply: (answer: RestAnswer) => Reply<Res>) {
    return function handle(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void {
      let rest: RestCall;
      try {
        rest = translate(call.request);
      } catch (error) {
        if (error instanceof TensorCodecError) return callback({ code: GrpcStatus.INVALID_ARGUMENT, details: error.message });
        logger?.error({ err: error }, 'gRPC request could not be translated');
        return callback({ code: GrpcStatus.INTERNAL, details: 'internal error' });
      }
      runRest(call as ServerUnaryCall<unknown, unknown>, rest).then(
        (answer) => {
          let result: Reply<Res>;
          try {
            result = reply(answer);
          } catch (error) {
            logger?.error({ err: error, path: rest.path }, 'the service answered in a form the gRPC transport cannot read');
            return callback({ code: GrpcStatus.INTERNAL, details: 'internal error' });
          }
          if ('failure' in result) return callback(result.failure);
          call.sendMetadata(responseMetadata(answer.headers));
          callback(null, result.value);
        },
        (error: unknown) => {
          if (call.cancelled) return; // the client left; nobody hears the answer
          logger?.error({ err: error, path: rest.path }, 'gRPC call failed inside the service');
          callback({ code: GrpcStatus.INTERNAL, details: 'internal error' });
        },
      );
    };
  }

  const json = <Res>(build: (json: unknown) => Res) => (answer: RestAnswer): Reply<Res> =>
    answer.status >= 200 && answer.status < 300
      ? { value: build(answer.json) }
      : { failure: failureOf(answer.status, errorMessage(answer), answer.headers) };
  /** Health answers: 503 means "no", not an error. */
  const flag = <Res>(build: (ok: boolean) => Res) => (answer: RestAnswer): Reply<Res> =>
    answer.status === 200 || answer.status === 503
      ? { value: build(answer.status === 200) }
      : { failure: failureOf(answer.status, errorMessage(answer), answer.headers) };

  const implementation: UntypedServiceImplementation = {
    ServerLive: unary(() => ({ method: 'GET', path: '/v2/health/live' }), flag((live) => ({ live }))),
    ServerReady: unary(() => ({ method: 'GET', path: '/v2/health/ready' }), flag((ready) => ({ ready }))),
    ModelReady: unary((r: ModelRef) => modelReadyCall(r), flag((ready) => ({ ready }))),
    ServerMetadata: unary(() => ({ method: 'GET', path: '/v2' }), json(serverMetadataReply)),
    ModelMetadata: unary((r: ModelRef) => modelMetadataCall(r), json(modelMetadataReply)),
    ModelInfer: unary((r: ModelInferRequest) => modelInferCall(r, tensorBody), (answer) => json((body) => modelInferReply(body, answer.binary))(answer)),
    // Without an implementation grpc-js answers UNIMPLEMENTED.
    ...(tritonExtensions
      ? {
          ModelConfig: unary((r: ModelRef) => modelConfigCall(r), json(modelConfigReply)),
          ModelStatistics: unary((r: ModelStatisticsRequest) => modelStatisticsCall(r), json(modelStatisticsReply)),
          RepositoryIndex: unary((r: RepositoryIndexRequest) => repositoryIndexCall(r), json(repositoryIndexReply)),
        }
      : {}),
  };

  // Channelz (grpc-js's per-call introspection counters) is off: nothing reads it, and it costs on every call.
  const server = new Server({ 'grpc.max_receive_message_length': maxBytes, 'grpc.max_send_message_length': maxBytes, 'grpc.enable_channelz': 0 });
  server.addService(inferenceService().definition, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${authority}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  origin = `http://${authority}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      return closing;
    },
    forceClose() {
      server.forceShutdown();
    },
  };
}
