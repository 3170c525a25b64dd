import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleRepository } from './samples/write-samples.ts';
import { postJson, startInProcessWorker, type InProcessWorker } from './testing/worker-harness.ts';

describe('worker telemetry', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let repository: string;
  let worker: InProcessWorker;

  beforeAll(async () => {
    provider.register();
    repository = await mkdtemp(join(tmpdir(), 'switchyard-trace-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    worker = await startInProcessWorker({ repository, model: 'seed-classifier' });
  });
  afterAll(async () => {
    await worker.close();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    await rm(repository, { recursive: true, force: true });
  });

  const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it('continues the caller\'s trace: server span → inference (queue wait) per request, linked to the session.run that served it', async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const body = (x: number) => ({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [x, x] }] });
    const responses = await Promise.all(
      [0.1, 0.2, 0.3].map((x) => postJson(worker.app, '/v2/models/seed-classifier/infer', body(x), { traceparent: `00-${traceId}-00f067aa0ba902b7-01` })),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const spans = exporter.getFinishedSpans();

    const servers = byName(spans, 'POST /v2/models/:model/infer');
    expect(servers).toHaveLength(3);
    for (const server of servers) {
      expect(server.spanContext().traceId).toBe(traceId);
      expect(parentOf(server)).toBe('00f067aa0ba902b7');
      expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v2/models/:model/infer', 'http.response.status_code': 200 });
    }
    const serverIds = new Set(servers.map((s) => s.spanContext().spanId));

    const inferences = byName(spans, 'inference');
    expect(inferences).toHaveLength(3);
    // Every request's own server span has its inference span, whichever request's trace the batch's run lives in.
    expect(new Set(inferences.map(parentOf))).toEqual(serverIds);
    const inferenceIds = new Set(inferences.map((s) => s.spanContext().spanId));
    const waits = byName(spans, 'queue wait');
    expect(waits).toHaveLength(3);
    for (const wait of waits) expect(inferenceIds.has(parentOf(wait) ?? '')).toBe(true);

    const runs = byName(spans, 'session.run');
    const rows = runs.reduce((sum, run) => sum + Number(run.attributes['switchyard.batch_size']), 0);
    expect(rows).toBe(3);
    const linked = new Set(runs.flatMap((run) => run.links.map((l) => l.context.spanId)));
    expect(linked).toEqual(serverIds);
    const runIds = new Set(runs.map((r) => r.spanContext().spanId));
    for (const inference of inferences) {
      expect(inference.links).toHaveLength(1);
      expect(runIds.has(inference.links[0]?.context.spanId ?? '')).toBe(true);
      expect(inference.attributes).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.request_rows': 1 });
    }
    for (const run of runs) {
      expect(run.attributes).toMatchObject({ 'switchyard.model': 'seed-classifier', 'switchyard.model_version': '2', 'switchyard.execution_provider': 'cpu' });
      expect(serverIds.has(parentOf(run) ?? '')).toBe(true);
    }
  });

  it('writes trace ids into request logs, and never tensor data', async () => {
    exporter.reset();
    worker.logs.lines.length = 0;
    const canary = 0.123456789;
    const res = await postJson(worker.app, '/v2/models/seed-classifier/infer', {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], data: [canary, canary, canary] }],
    }, { 'x-request-id': 'req-7' });
    expect(res.status).toBe(400);
    const line = worker.logs.lines.find((l) => l.msg === 'inference rejected');
    const server = byName(exporter.getFinishedSpans(), 'POST /v2/models/:model/infer')[0];
    expect(line).toMatchObject({ request_id: 'req-7', status: 400, model: 'seed-classifier', trace_id: server?.spanContext().traceId });
    expect(JSON.stringify(worker.logs.lines)).not.toContain('123456789');
  });
});
