/**
 * Minting API keys: a random secret for the caller, its digest for the
 * config, and the edit that adds that entry to a `switchyard.yaml` text
 * without disturbing the rest of it. No files, no console: `mint-key.ts`
 * is the CLI.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { isSeq, parse, parseDocument, stringify, type YAMLSeq } from 'yaml';
import { FleetConfigSchema, type ApiKeyConfig } from '@switchyard/fleet-config/schema';
import { parseFleetConfig } from '@switchyard/fleet-config/load';

/** Bad input for minting: the message is for the person at the terminal. */
export class ApiKeyError extends Error {
  override name = 'ApiKeyError';
}

export interface MintedKey {
  /** `sy_` + 32 random bytes in base64url. Shown once; never stored by Switchyard. */
  key: string;
  entry: ApiKeyConfig;
}

const API_KEYS = ['auth', 'api_keys'] as const;

/** A new key and its `auth.api_keys` entry; throws ApiKeyError if the config would reject the entry. */
export function mintApiKey(id: string, tenant: string, scopes: readonly string[]): MintedKey {
  const key = `sy_${randomBytes(32).toString('base64url')}`;
  const entry: ApiKeyConfig = { id, sha256: createHash('sha256').update(key, 'utf8').digest('hex'), tenant, scopes: [...scopes] };
  const checked = FleetConfigSchema.shape.auth.safeParse({ api_keys: [entry] });
  if (!checked.success) {
    throw new ApiKeyError(`invalid key entry: ${checked.error.issues.map((issue) => `${issue.path.slice(2).join('.')}: ${issue.message}`).join('; ')}`);
  }
  return { key, entry };
}

function indented(text: string, indent: number): string {
  return text.replace(/^(?=.)/gm, ' '.repeat(indent));
}

function lineStart(source: string, offset: number): number {
  return source.lastIndexOf('\n', offset - 1) + 1;
}

/**
 * Splices the entry's YAML into the source text rather than re-rendering
 * the whole document, which would re-space every trailing comment. Works
 * for a block list and for `[]`; undefined for other shapes.
 */
function splice(source: string, keys: YAMLSeq, entry: ApiKeyConfig): string | undefined {
  const [start, end] = keys.range ?? [];
  if (start === undefined || end === undefined) return undefined;
  const item = stringify([entry]);
  if (!keys.flow && keys.items.length > 0) {
    const separator = source[end - 1] === '\n' ? '' : '\n';
    return source.slice(0, end) + separator + indented(item, start - lineStart(source, start)) + source.slice(end);
  }
  if (keys.flow && keys.items.length === 0) {
    const keyIndent = /^ */.exec(source.slice(lineStart(source, start)))?.[0].length ?? 0;
    const lineEnd = source.indexOf('\n', end);
    const rest = lineEnd === -1 ? `${source.slice(end)}\n` : source.slice(end, lineEnd + 1);
    const after = lineEnd === -1 ? '' : source.slice(lineEnd + 1);
    return source.slice(0, start).trimEnd() + rest + indented(item, keyIndent + 2) + after;
  }
  return undefined;
}

/**
 * `source` (a fleet config's YAML) with `entry` appended to `auth.api_keys`;
 * everything else, comments included, is left as it was. Refuses invalid
 * YAML or config (FleetConfigError) and a duplicate id, and checks the
 * result, so the file is never left in a state the gateway would refuse.
 */
export function addKeyToConfig(source: string, entry: ApiKeyConfig, name = 'config'): string {
  const document = parseDocument(source);
  const [syntax] = document.errors;
  if (syntax) throw new ApiKeyError(`${name}: not valid YAML: ${syntax.message}`);
  const before = parseFleetConfig(document.toJS(), name).auth.api_keys;
  if (before.some((key) => key.id === entry.id)) throw new ApiKeyError(`${name}: a key with id '${entry.id}' already exists`);

  const keys = document.getIn(API_KEYS);
  let text = isSeq(keys) ? splice(source, keys, entry) : undefined;
  if (text === undefined) {
    // Rare shapes (no list yet, a non-empty flow list): let the Document render it.
    if (isSeq(keys)) {
      keys.flow = false;
      keys.add(document.createNode(entry));
    } else {
      document.setIn(API_KEYS, document.createNode([entry]));
    }
    text = document.toString({ lineWidth: 0 });
  }
  const after = parseFleetConfig(parse(text), name).auth.api_keys;
  if (after.length !== before.length + 1 || !isDeepStrictEqual(after.at(-1), entry)) throw new Error(`${name}: adding the key did not produce the expected list`);
  return text;
}
