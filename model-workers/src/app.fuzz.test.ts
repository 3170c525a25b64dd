import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATATYPES } from './protocol/datatypes.ts';
import { writeSampleRepository } from './samples/write-samples.ts';
import { writeTypedEcho } from './testing/fixture-models.ts';
import { postJson, startInProcessWorker, type InProcessWorker } from './testing/worker-harness.ts';

/** Requests that look like infer requests, with every field allowed to be wrong. */
function inferLike(inputNames: string[]): fc.Arbitrary<unknown> {
  const dim = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: -3, max: 1e6 }), fc.double(), fc.string());
  const element = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string(), fc.constant(null), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String));
  const data = fc.oneof(fc.array(element, { maxLength: 12 }), fc.array(fc.array(element, { maxLength: 4 }), { maxLength: 4 }), fc.jsonValue());
  const input = fc.record(
    {
      name: fc.oneof(fc.constantFrom(...inputNames), fc.string()),
      datatype: fc.oneof(fc.constantFrom(...DATATYPES), fc.string()),
      shape: fc.oneof(fc.array(dim, { maxLength: 4 }), fc.jsonValue()),
      data,
      parameters: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  return fc.record(
    {
      id: fc.oneof(fc.string(), fc.integer()),
      inputs: fc.oneof(fc.array(input, { maxLength: 4 }), fc.jsonValue()),
      outputs: fc.oneof(fc.array(fc.record({ name: fc.string() })), fc.jsonValue()),
      parameters: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
}

async function expectClientOutcome(res: Response): Promise<void> {
  expect(res.status).toBeLessThan(500);
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status >= 400) {
    expect(Object.keys(body)).toEqual(['error']);
    expect(typeof body.error).toBe('string');
  }
}

describe('infer endpoints under random and malformed payloads', () => {
  let repository: string;
  let classifier: InProcessWorker;
  let echo: InProcessWorker;
  beforeAll(async () => {
    repository = await mkdtemp(join(tmpdir(), 'switchyard-fuzz-'));
    await writeSampleRepository(repository, { models: ['seed-classifier'] });
    await writeTypedEcho(repository);
    classifier = await startInProcessWorker({ repository, model: 'seed-classifier' });
    echo = await startInProcessWorker({ repository, model: 'typed-echo' });
  });
  afterAll(async () => {
    await classifier.close();
    await echo.close();
    await rm(repository, { recursive: true, force: true });
  });

  it('answers arbitrary JSON with 2xx or a 4xx {"error"}, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.constantFrom('/v2/models/seed-classifier/infer', '/v1/models/seed-classifier:predict'), async (body, path) => {
        await expectClientOutcome(await postJson(classifier.app, path, body));
      }),
      { numRuns: 300 },
    );
  });

  it('answers plausible but wrong infer requests with 2xx or a 4xx {"error"}, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(inferLike(['features']), async (body) => {
        await expectClientOutcome(await postJson(classifier.app, '/v2/models/seed-classifier/infer', body));
      }),
      { numRuns: 500 },
    );
    const echoInputs = DATATYPES.map((d) => `in_${d.toLowerCase()}`);
    await fc.assert(
      fc.asyncProperty(inferLike(echoInputs), async (body) => {
        await expectClientOutcome(await postJson(echo.app, '/v2/models/typed-echo/infer', body));
      }),
      { numRuns: 500 },
    );
  });

  it('serves near-valid requests or refuses them with 4xx, and results stay per request', async () => {
    let served = 0;
    const element = fc.oneof({ weight: 8, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { weight: 1, arbitrary: fc.jsonValue() });
    const request = fc.integer({ min: 1, max: 70 }).chain((rows) =>
      fc.record({
        rows: fc.constant(rows),
        data: fc.array(element, { minLength: rows * 2 - 1, maxLength: rows * 2 + 1 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        const responses = await Promise.all(
          requests.map(({ rows, data }) =>
            postJson(classifier.app, '/v2/models/seed-classifier/infer', { inputs: [{ name: 'features', datatype: 'FP32', shape: [rows, 2], data }] }),
          ),
        );
        for (const [i, res] of responses.entries()) {
          if (res.status === 200) {
            served++;
            const body = (await res.clone().json()) as { outputs: Array<{ shape: number[] }> };
            expect(body.outputs[0]?.shape).toEqual([requests[i]?.rows, 2]);
          }
          await expectClientOutcome(res);
        }
      }),
      { numRuns: 150 },
    );
    expect(served).toBeGreaterThan(0);
  });

  it('answers arbitrary bytes as a body with a 4xx {"error"}', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        await expectClientOutcome(await postJson(classifier.app, '/v2/models/seed-classifier/infer', text));
      }),
      { numRuns: 300 },
    );
  });

  it('survives deeply nested JSON', async () => {
    const deep = `{"inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":${'['.repeat(50_000)}${']'.repeat(50_000)}}]}`;
    const res = await postJson(classifier.app, '/v2/models/seed-classifier/infer', deep);
    expect(res.status).toBe(400);
    await expectClientOutcome(res);
  });
});
