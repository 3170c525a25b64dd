/**
 * The floor of each transport in Node, for the transports bench: three
 * servers in one process that read a request whole and answer at once with
 * a small fixed reply (no gateway, no model): `node:http` (HTTP/1.1),
 * `node:http2` (gRPC framing by hand: a length-prefixed reply and a
 * `grpc-status` trailer) and a grpc-js `Server` with Switchyard's
 * `inference.GRPCInferenceService` definition (protobuf decoding and
 * encoding included). Their CPU per call under the same load is what each
 * transport costs before any Switchyard code runs.
 * `node --import tsx test/bench/transport-floors.ts <http port> <http2 port> <grpc-js port>`;
 * prints `listening` once all three accept connections.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { inferenceService } from '@switchyard/grpc/client';

const [httpPort, http2Port, grpcPort] = process.argv.slice(2).map(Number);
if (!httpPort || !http2Port || !grpcPort) throw new Error('usage: transport-floors.ts <http port> <http2 port> <grpc-js port>');

const REPLY = { model_name: 'image-stats', model_version: '1', outputs: [{ name: 'mean', datatype: 'FP32', shape: ['1', '3'] }], raw_output_contents: [Buffer.alloc(12)] };
const encoded = inferenceService().definition.ModelInfer?.responseSerialize(REPLY) as Buffer;
const FRAMED = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), encoded]);
FRAMED.writeUInt32BE(encoded.byteLength, 1);

const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(FRAMED);
  });
});

const http2 = createHttp2Server((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': 'application/grpc' });
    res.addTrailers({ 'grpc-status': '0' });
    res.end(FRAMED);
  });
});

const grpc = new Server({ 'grpc.enable_channelz': 0, 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
grpc.addService(inferenceService().definition, {
  ModelInfer: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => callback(null, REPLY),
});

await Promise.all([
  new Promise<void>((resolve) => http.listen(httpPort, '127.0.0.1', resolve)),
  new Promise<void>((resolve) => http2.listen(http2Port, '127.0.0.1', resolve)),
  new Promise<void>((resolve, reject) => grpc.bindAsync(`127.0.0.1:${grpcPort}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()))),
]);
process.on('SIGTERM', () => process.exit(0));
console.log('listening');
