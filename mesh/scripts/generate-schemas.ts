#!/usr/bin/env node
/**
 * Writes strict JSON schemas (unknown fields rejected, required fields
 * required) for every kind the mesh renders to mesh/schemas/<Kind>.json,
 * generated offline from npm type packages (see scripts/schema-generation.ts).
 * `npm run schemas -w @switchyard/mesh`.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateSchemas, schemaFileContent } from './schema-generation.ts';

for (const [kind, schema] of Object.entries(generateSchemas())) {
  const path = fileURLToPath(new URL(`../schemas/${kind}.json`, import.meta.url));
  await writeFile(path, schemaFileContent(kind, schema));
  process.stdout.write(`wrote ${path}\n`);
}
