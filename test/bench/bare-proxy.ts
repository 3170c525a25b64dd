/**
 * The floor for a Node proxy: a `node:http` server that forwards every
 * request to one upstream through an undici pool and streams the answer
 * back — no auth, limits, routing, logs or metrics. Run as its own process:
 * `node --import tsx test/bench/bare-proxy.ts <port> <upstream origin>`;
 * prints `listening` once it accepts connections.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
if (!port || !upstream) throw new Error('usage: bare-proxy.ts <port> <upstream origin>');

const pool = new Pool(upstream, { connections: 64, pipelining: 1 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade', 'te', 'trailer', 'proxy-connection']);

async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined && !HOP_BY_HOP.has(key)) headers[key] = value;
    const answer = await pool.request({ path: req.url ?? '/', method: req.method as 'POST', headers, body: Buffer.concat(chunks) });
    const out: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
    res.writeHead(answer.statusCode, out);
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch (error) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
  }
}

const server = createServer((req, res) => void forward(req, res));
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => void pool.close().then(() => process.exit(0))));
