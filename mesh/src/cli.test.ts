import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('mesh CLI', () => {
  it('renders into --out with --namespace, --trust-domain and --cluster-domain overriding the config', async () => {
    const out = await mkdtemp(join(tmpdir(), 'switchyard-mesh-cli-'));
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'render', '--out', out, '--namespace', 'switchyard-dev', '--trust-domain', 'td.example', '--cluster-domain', 'k8s.local'], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const identity = await readFile(join(out, 'base/identity.yaml'), 'utf8');
      expect(identity).toContain('namespace: switchyard-dev');
      expect(identity).toContain('http://worker-seed-classifier-v1.switchyard-dev.svc.k8s.local:8000');
      expect(await readFile(join(out, 'base/istio.yaml'), 'utf8')).toContain('td.example/ns/switchyard-dev/sa/switchyard-gateway');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses an unknown command with its usage', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'apply'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^usage: npm run mesh -- render/);
  });
});
