/**
 * Strict JSON schemas for the rendered kinds, generated with
 * typescript-json-schema (`required`, `noExtraProps`) from the types in
 * scripts/schema-types.ts: `kubernetes-types` and the Istio typings of
 * `@kubernetes-models/istio`. Nothing is downloaded.
 */
import { fileURLToPath } from 'node:url';
import * as TJS from 'typescript-json-schema';

export function generateSchemas(): Record<string, object> {
  const source = fileURLToPath(new URL('../scripts/schema-types.ts', import.meta.url));
  const program = TJS.getProgramFromFiles([source], { strict: true, skipLibCheck: true, esModuleInterop: true, noEmit: true }, fileURLToPath(new URL('..', import.meta.url)));
  const root = TJS.generateSchema(program, 'RenderedKinds', { required: true, noExtraProps: true, strictNullChecks: true, ref: false, topRef: false });
  if (!root?.properties) throw new Error('schema generation failed');
  return root.properties as Record<string, object>;
}

export function schemaFileContent(kind: string, schema: object): string {
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: kind, ...schema }, null, 1)}\n`;
}
