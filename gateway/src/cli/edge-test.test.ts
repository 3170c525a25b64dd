import { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_FAILED, EXIT_OK, runCli } from './cli-runner.ts';
import { createSwitchyardProgram } from './switchyard-program.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../../examples/edge');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
  const program = createSwitchyardProgram({ io, adminUrl: 'http://127.0.0.1:9', adminKey: undefined, stdin: Readable.from([]) });
  const code = await runCli(program, args, io);
  return { code, out, err };
}

describe('switchyard edge test', () => {
  it('runs a post-processing module in Deno in front of the stub model and prints its answer and the model call', async () => {
    const body = JSON.stringify({ inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], data: [0.1, 0.2] }] });
    const { code, out } = await run(['--json', 'edge', 'test', resolve(EXAMPLES, 'class-labels.ts'), '--path', '/v2/models/seed-classifier/infer', '--data', body, '--var', 'LABELS=outside,inside']);
    expect(code).toBe(EXIT_OK);
    const result = JSON.parse(out) as { status: number; body: string; modelCalls: Array<{ path: string; body: string }> };
    expect(result.status).toBe(200);
    expect((JSON.parse(result.body) as { outputs: Array<{ labels: string[] }> }).outputs[0]?.labels).toEqual(['inside']);
    expect(result.modelCalls).toEqual([{ path: '/v2/models/seed-classifier/versions/1/infer', body }]);
  }, 30_000);

  it('exits non-zero when the module answers an error', async () => {
    const { code, out, err } = await run(['edge', 'test', resolve(EXAMPLES, 'seed-predict.ts'), '--data', '{"feature": "x"}']);
    expect(code).toBe(EXIT_FAILED);
    expect(out).toContain('must be two comma-separated numbers');
    expect(err).toContain('the edge worker answered 400');
  }, 30_000);
});
