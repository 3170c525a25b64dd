/**
 * The host of one edge worker, run by Deno (never by Node) with least
 * privilege. A generated entry imports the user's module statically and
 * calls `serveEdgeWorker`. The first line on stdin carries the settings
 * (listen port, binding URL, per-process token, vars), so the token is not
 * on the command line. The host prints `ready` on stdout once listening.
 */
import { EDGE_CALL_HEADER, EDGE_CONTEXT_HEADER, EDGE_ERROR_HEADER, EDGE_TOKEN_HEADER, type EdgeContext, type EdgeEnv, type EdgeWorker } from '../contract.ts';

/** The few Deno APIs the host uses (this file is type-checked with Node's types). */
declare const Deno: {
  stdin: { readable: ReadableStream<Uint8Array> };
  exit(code: number): never;
  serve(options: { hostname: string; port: number; onListen?: () => void }, handler: (request: Request) => Response | Promise<Response>): unknown;
};

interface HostSettings {
  port: number;
  /** Base URL of the gateway's internal model binding. */
  binding: string;
  token: string;
  vars: Record<string, string>;
}

/**
 * Reads the settings line, then keeps stdin open: the gateway never closes
 * it, so end-of-file means the gateway is gone (even SIGKILLed), and the
 * host exits rather than linger as an orphan.
 */
async function readSettings(): Promise<HostSettings> {
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
  return JSON.parse(text.slice(0, text.indexOf('\n'))) as HostSettings;
}

function bindingFor(settings: HostSettings, callId: string, traceparent: string | null): EdgeEnv['MODEL'] {
  return {
    fetch(input, init) {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const headers = new Headers(request.headers);
      headers.set(EDGE_TOKEN_HEADER, settings.token);
      headers.set(EDGE_CALL_HEADER, callId);
      if (traceparent && !headers.has('traceparent')) headers.set('traceparent', traceparent);
      return fetch(`${settings.binding}${url.pathname}${url.search}`, { method: request.method, headers, body: request.body });
    },
  };
}

export async function serveEdgeWorker(worker: EdgeWorker): Promise<void> {
  const settings = await readSettings();
  // The supervisor waits for this line on stdout.
  // eslint-disable-next-line no-console
  Deno.serve({ hostname: '127.0.0.1', port: settings.port, onListen: () => console.log('ready') }, async (incoming) => {
    const ctx = JSON.parse(incoming.headers.get(EDGE_CONTEXT_HEADER) ?? '{}') as EdgeContext;
    const callId = incoming.headers.get(EDGE_CALL_HEADER) ?? '';
    const headers = new Headers(incoming.headers);
    headers.delete(EDGE_CONTEXT_HEADER);
    headers.delete(EDGE_CALL_HEADER);
    const request = new Request(incoming.url, { method: incoming.method, headers, body: incoming.body });
    const env = Object.freeze({ ...settings.vars, MODEL: bindingFor(settings, callId, incoming.headers.get('traceparent')) }) as EdgeEnv;
    try {
      return await worker.fetch(request, env, Object.freeze(ctx));
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return new Response(JSON.stringify({ error: message }), { status: 500, headers: { 'content-type': 'application/json', [EDGE_ERROR_HEADER]: 'exception' } });
    }
  });
}
