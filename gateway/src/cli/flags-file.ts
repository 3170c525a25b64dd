/**
 * The flags file that `switchyard flags set <model> <file>` reads. It is
 * what `switchyard flags get <model> --json` prints (the admin API's flag
 * view), so get → edit → set round-trips:
 *
 *   {"version": 7, "updated_at": "…", "updated_by": "…", "state": {…rollout state…}}
 *
 * `state` is required; `version`, when present, makes the write
 * conditional: it is refused (409) if the model's flags changed since they
 * were read. `updated_at` and `updated_by` are ignored. Also accepted: a
 * bare rollout state (`{"stable": …, "weights": {…}}`, as in
 * gateway/examples/flags/seed-classifier.json) and the output of `flags get
 * --json` for every model (the entry for `<model>` is taken). The state
 * itself is validated by the admin API.
 */
import { readFile } from 'node:fs/promises';

/** What `PUT /admin/flags/{model}` takes. */
export interface FlagsWrite {
  state: unknown;
  expected_version?: number;
}

const VIEW_KEYS = new Set(['state', 'version', 'updated_at', 'updated_by']);
const FORMS = 'expected what `flags get <model> --json` prints ({"state": {...}, "version": n}) or a rollout state ({"stable": ..., "weights": {...}})';

export class FlagsFileError extends Error {
  override name = 'FlagsFileError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromView(view: Record<string, unknown>, source: string): FlagsWrite {
  const unknown = Object.keys(view).filter((k) => !VIEW_KEYS.has(k));
  if (unknown.length) throw new FlagsFileError(`${source}: unknown key ${unknown.map((k) => `'${k}'`).join(', ')}; a flag view has state, version, updated_at and updated_by`);
  const { state, version } = view;
  if (version === undefined) return { state };
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) throw new FlagsFileError(`${source}: version must be a whole number ≥ 0`);
  return { state, expected_version: version };
}

/** Reads the file's text into the admin API's write body for `model`; `source` names the file in messages. */
export function parseFlagsFile(text: string, model: string, source: string): FlagsWrite {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new FlagsFileError(`${source} is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(data)) throw new FlagsFileError(`${source}: ${FORMS}`);
  if (Object.hasOwn(data, 'state')) return fromView(data, source);
  if (Object.hasOwn(data, 'stable') || Object.hasOwn(data, 'weights')) return { state: data };
  const entries = Object.entries(data);
  if (entries.length > 0 && entries.every(([, v]) => isObject(v) && Object.hasOwn(v, 'state'))) {
    const view = Object.hasOwn(data, model) ? data[model] : undefined;
    if (!isObject(view)) throw new FlagsFileError(`${source} holds flags for ${entries.map(([m]) => `'${m}'`).join(', ')}, not for '${model}'`);
    return fromView(view, `${source} (${model})`);
  }
  throw new FlagsFileError(`${source}: ${FORMS}`);
}

/** The text of `path`, or of standard input when `path` is `-`. */
export async function readFlagsInput(path: string, stdin: AsyncIterable<string | Uint8Array>): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new FlagsFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
}
