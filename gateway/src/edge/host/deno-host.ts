/**
 * The host of one edge worker, run by Deno (never by Node) with least
 * privilege. An entry imports the user's module statically and calls
 * `serveEdgeWorker`. Settings (listen port, binding URL, vars) come from
 * the first line of stdin when a gateway started the process — with the
 * per-process token, so it is not on the command line — or from the last
 * argument when the host runs as a sidecar (then each request from the
 * gateway carries the token). The host prints `ready` on stdout once
 * listening, and answers `GET /healthz` itself for probes: every request
 * from the gateway carries the edge context header, a probe does not.
 */
import type { EdgeHostSettings } from '@switchyard/fleet-config/edge-host';
import { EDGE_CALL_HEADER, EDGE_CONTEXT_HEADER, EDGE_ERROR_HEADER, EDGE_TOKEN_HEADER, type EdgeContext, type EdgeEnv, type EdgeWorker } from '../contract.ts';

/** The few Deno APIs the host uses (this file is type-checked with Node's types). */
declare const Deno: {
  args: string[];
  stdin: { readable: ReadableStream<Uint8Array> };
  exit(code: number): never;
  serve(options: { hostname: string; port: number; onListen?: () => void }, handler: (request: Request) => Response | Promise<Response>): unknown;
};

/** Set on the sidecar's probes; anything else without the edge context is not from the gateway. */
const HEALTH_PATH = '/healthz';

/**
 * Reads the settings: the last argument (a sidecar, whose supervisor is the
 * kubelet), or else the first stdin line. In the latter case stdin stays
 * open: the gateway never closes it, so end-of-file means the gateway is
 * gone (even SIGKILLed), and the host exits rather than linger as an orphan.
 */
async function readSettings(): Promise<EdgeHostSettings> {
  const argument = Deno.args.at(-1);
  if (argument !== undefined) return JSON.parse(argument) as EdgeHostSettings;
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) Deno.exit(1);
    text += decoder.decode(value, { stream: true });
  }
  void (async () => {
    for (;;) if ((await reader.read()).done) Deno.exit(0);
  })();
  return JSON.parse(text.slice(0, text.indexOf('\n'))) as EdgeHostSettings;
}

function bindingFor(settings: EdgeHostSettings, token: string, callId: string, traceparent: string | null): EdgeEnv['MODEL'] {
  return {
    fetch(input, init) {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.set(EDGE_TOKEN_HEADER, token);
      headers.set(EDGE_CALL_HEADER, callId);
      // The binding is a loopback hop: compressing the answer only to inflate it again costs both sides time.
      if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'identity');
      if (settings.tracing) {
        // Deno's tracing sets this request's own traceparent (a child of the host's server span); a copied one would be sent twice.
        headers.delete('traceparent');
        headers.delete('tracestate');
      } else if (traceparent && !headers.has('traceparent')) headers.set('traceparent', traceparent);
      // `duplex` lets Node's fetch send a stream body (inline workers); Deno ignores it.
      return fetch(`${settings.binding}${url.pathname}${url.search}`, { method: request.method, headers, body: request.body, ...(request.body ? { duplex: 'half' } : {}) });
    },
  };
}

function notFromGateway(request: Request): Response {
  if (request.method === 'GET' && new URL(request.url).pathname === HEALTH_PATH) return new Response('ok\n');
  return Response.json({ error: 'edge worker hosts answer only their gateway' }, { status: 404 });
}

/**
 * One request from the gateway to the module: `ctx` from the edge context
 * header, `env` with the vars and the model binding, internal headers
 * removed; a module that throws is answered 500 marked as an exception.
 * Also used in the gateway's own process by inline workers.
 */
export async function handleEdgeRequest(worker: EdgeWorker, settings: EdgeHostSettings, incoming: Request): Promise<Response> {
  const context = incoming.headers.get(EDGE_CONTEXT_HEADER);
  if (context === null) return notFromGateway(incoming);
  const ctx = JSON.parse(context) as EdgeContext;
  const callId = incoming.headers.get(EDGE_CALL_HEADER) ?? '';
  const token = settings.token ?? incoming.headers.get(EDGE_TOKEN_HEADER) ?? '';
  const headers = new Headers(incoming.headers);
  headers.delete(EDGE_CONTEXT_HEADER);
  headers.delete(EDGE_CALL_HEADER);
  headers.delete(EDGE_TOKEN_HEADER);
  const request = new Request(incoming.url, { method: incoming.method, headers, body: incoming.body, ...(incoming.body ? { duplex: 'half' } : {}) });
  const env = Object.freeze({ ...settings.vars, MODEL: bindingFor(settings, token, callId, incoming.headers.get('traceparent')) }) as EdgeEnv;
  try {
    return await worker.fetch(request, env, Object.freeze(ctx));
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new Response(JSON.stringify({ error: message }), { status: 500, headers: { 'content-type': 'application/json', [EDGE_ERROR_HEADER]: 'exception' } });
  }
}

export async function serveEdgeWorker(worker: EdgeWorker): Promise<void> {
  const settings = await readSettings();
  // The supervisor waits for this line on stdout.
  // eslint-disable-next-line no-console
  Deno.serve({ hostname: '127.0.0.1', port: settings.port, onListen: () => console.log('ready') }, (incoming) => handleEdgeRequest(worker, settings, incoming));
}
