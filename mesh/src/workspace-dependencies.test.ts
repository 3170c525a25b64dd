/**
 * Every package an image installs with `npm ci --omit=dev --workspace <w>`
 * gets only what its package.json declares: a runtime import of an
 * undeclared package crashes the container at start (ERR_MODULE_NOT_FOUND)
 * while the monorepo's hoisted node_modules hides it everywhere else.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; peerDependencies?: Record<string, string>; workspaces?: string[] }

const readManifest = (root: string, dir: string) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest;
const rootManifest = readManifest(ROOT, '.');
const BUILTINS = new Set(builtinModules);
const SKIP_DIRS = new Set(['node_modules', 'dist', 'models', '.turbo', 'coverage']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : sourceFiles(join(dir, e.name));
    return /\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [];
  });
}

/** Files only tests, scripts and tooling load: they may use dev dependencies. */
const isDevOnly = (path: string) => /\.test\.ts$|\/testing\/|\/scripts\/|\/bench\/|vitest\.config|eslint\.config/.test(path);

interface Import { specifier: string; typeOnly: boolean }

/** Static, side-effect and dynamic imports with a literal specifier. */
function importsOf(source: string): Import[] {
  const found: Import[] = [];
  for (const m of source.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) found.push({ specifier: m[3] ?? '', typeOnly: m[2] !== undefined });
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1] ?? '', typeOnly: false });
  return found;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`; relative and built-in → undefined. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0] ?? '')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function undeclaredImports(root: string, workspace: string): string[] {
  const manifest = readManifest(root, workspace);
  const runtime = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
  const dev = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {}), ...Object.keys(rootManifest.devDependencies ?? {})]);
  const problems: string[] = [];
  for (const file of sourceFiles(join(root, workspace))) {
    const relative = file.slice(root.length);
    const devOnly = isDevOnly(relative);
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      const pkg = packageOf(specifier);
      if (pkg === undefined || pkg === manifest.name) continue;
      const allowed = devOnly || typeOnly ? dev : runtime;
      if (!allowed.has(pkg)) problems.push(`${relative}: imports '${specifier}' but ${workspace}/package.json does not declare ${pkg}${devOnly || typeOnly ? '' : ' in dependencies'}`);
    }
  }
  return problems;
}

describe('workspace dependencies', () => {
  it('finds static, side-effect, type-only and dynamic imports and their packages', () => {
    const source = "import { a } from 'hono/body-limit';\nimport type { B } from '@scope/pkg/sub';\nimport 'side-effect';\nexport { c } from './local.ts';\nconst d = await import('node:fs');\nconst e = await import('vitest/config');\n";
    expect(importsOf(source)).toEqual([
      { specifier: 'hono/body-limit', typeOnly: false },
      { specifier: '@scope/pkg/sub', typeOnly: true },
      { specifier: 'side-effect', typeOnly: false },
      { specifier: './local.ts', typeOnly: false },
      { specifier: 'node:fs', typeOnly: false },
      { specifier: 'vitest/config', typeOnly: false },
    ]);
    expect(['hono/body-limit', '@scope/pkg/sub', './local.ts', 'node:fs', 'fs/promises', 'crypto'].map(packageOf)).toEqual(['hono', '@scope/pkg', undefined, undefined, undefined, undefined]);
  });

  it.each(rootManifest.workspaces ?? [])('%s: every package its code imports is declared (runtime code: in dependencies)', (workspace) => {
    expect(undeclaredImports(ROOT, workspace)).toEqual([]);
  });

  it('reports a runtime import declared only as a dev dependency, and one not declared at all', () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-deps-'));
    try {
      mkdirSync(join(root, 'svc', 'src'), { recursive: true });
      writeFileSync(join(root, 'svc', 'package.json'), JSON.stringify({ name: '@switchyard/svc', dependencies: { hono: '1' }, devDependencies: { pino: '1' } }));
      writeFileSync(join(root, 'svc', 'src', 'app.ts'), "import { Hono } from 'hono';\nimport pino from 'pino';\nimport { log } from '@switchyard/observability/logger';\n");
      writeFileSync(join(root, 'svc', 'src', 'app.test.ts'), "import pino from 'pino';\n");
      expect(undeclaredImports(root + '/', 'svc')).toEqual([
        "svc/src/app.ts: imports 'pino' but svc/package.json does not declare pino in dependencies",
        "svc/src/app.ts: imports '@switchyard/observability/logger' but svc/package.json does not declare @switchyard/observability in dependencies",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
