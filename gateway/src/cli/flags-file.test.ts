import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFleetConfig } from '@switchyard/fleet-config/load';
import { checkVariants, RolloutStateSchema } from '../flags/rollout-state.ts';
import { FlagsFileError, parseFlagsFile, readFlagsInput } from './flags-file.ts';

const REPO = new URL('../../../', import.meta.url);
const state = { stable: 'v1', candidate: 'v2', weights: { v1: 90, v2: 10 }, kill: false };
const view = { version: 7, updated_at: '2026-01-01T00:00:00.000Z', updated_by: 'ops', state };

describe('flags file', () => {
  it("takes a flag view's state, and its version as the version the write expects", () => {
    expect(parseFlagsFile(JSON.stringify(view), 'm', 'f.json')).toEqual({ state, expected_version: 7 });
    expect(parseFlagsFile(JSON.stringify({ state }), 'm', 'f.json')).toEqual({ state });
  });

  it('takes a bare rollout state, and the entry for the model from every model\'s flags', () => {
    expect(parseFlagsFile(JSON.stringify(state), 'm', 'f.json')).toEqual({ state });
    const all = { m: view, other: { ...view, version: 3 } };
    expect(parseFlagsFile(JSON.stringify(all), 'm', 'f.json')).toEqual({ state, expected_version: 7 });
    expect(() => parseFlagsFile(JSON.stringify(all), 'x', 'f.json')).toThrowError("f.json holds flags for 'm', 'other', not for 'x'");
  });

  it('names the file and the problem for anything else', () => {
    const cases: Array<[string, string | RegExp]> = [
      ['{"state": ', /^f\.json is not JSON: /],
      ['[]', /^f\.json: expected what `flags get <model> --json` prints/],
      ['{"nope": 1}', /^f\.json: expected what `flags get <model> --json` prints/],
      [JSON.stringify({ ...view, stat: {} }), "f.json: unknown key 'stat'; a flag view has state, version, updated_at and updated_by"],
      [JSON.stringify({ ...view, version: -1 }), 'f.json: version must be a whole number ≥ 0'],
      [JSON.stringify({ ...view, version: '7' }), 'f.json: version must be a whole number ≥ 0'],
    ];
    for (const [text, message] of cases) expect(() => parseFlagsFile(text, 'm', 'f.json'), text).toThrowError(message);
  });

  it('round-trips any flag view the admin API can print', () => {
    const printed = fc.record({
      version: fc.nat(),
      updated_at: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      updated_by: fc.string(),
      state: fc.dictionary(fc.string(), fc.jsonValue()),
    });
    fc.assert(fc.property(printed, fc.string({ minLength: 1 }), (v, model) => {
      const text = JSON.stringify(v, null, 2);
      expect(parseFlagsFile(text, model, 'f.json')).toEqual({ state: (JSON.parse(text) as typeof v).state, expected_version: v.version });
    }));
  });

  it('never throws anything but a FlagsFileError for arbitrary text', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
      try {
        parseFlagsFile(text, 'm', 'f.json');
      } catch (error) {
        expect(error).toBeInstanceOf(FlagsFileError);
      }
    }));
  });

  it("reads standard input for '-'", async () => {
    expect(await readFlagsInput('-', Readable.from(['{"st', Buffer.from('ate": {}}')]))).toBe('{"state": {}}');
  });

  it("ships an example that is a valid state for switchyard.yaml's seed-classifier", async () => {
    const example = new URL('gateway/examples/flags/seed-classifier.json', REPO);
    const { state: exampleState } = parseFlagsFile(await readFile(example, 'utf8'), 'seed-classifier', 'example');
    const parsed = RolloutStateSchema.parse(exampleState);
    const config = await loadFleetConfig(new URL('switchyard.yaml', REPO).pathname);
    const variants = config.models['seed-classifier']?.variants.map((v) => v.name) ?? [];
    expect(variants.length).toBeGreaterThan(0);
    expect(checkVariants(parsed, variants)).toEqual([]);
    expect(parsed).toMatchObject({ stable: 'v1', candidate: 'v2', allow: { subjects: ['qa-alice', 'qa-bob'] } });
  });
});
