import { describe, expect, it } from 'vitest';
import { GatewayError } from './http/gateway-error.ts';
import { modelAddress } from './model-path.ts';
import { buildTestGateway, sha256 } from './testing/gateway-harness.ts';

const KEY = 'sy_test_model_path';
const BAD = ['%ZZ', '%E0%A4%A', '%C0%AE%C0%AE'];

describe('model address', () => {
  it('decodes the model and version once, and refuses bad percent-encoding with a 400', () => {
    expect(modelAddress('/v2/models/seed%2Dclassifier/versions/2/infer')).toEqual({ model: 'seed-classifier', version: '2', suffix: '/infer', protocol: 'v2' });
    expect(modelAddress('/v1/models/m:predict')).toEqual({ model: 'm', suffix: ':predict', protocol: 'v1' });
    expect(modelAddress('/v2/health/ready')).toBeUndefined();
    for (const bad of BAD) {
      expect(() => modelAddress(`/v2/models/${bad}/infer`)).toThrow(GatewayError);
      expect(() => modelAddress(`/v2/models/m/versions/${bad}`)).toThrow('the version in the path is not valid percent-encoded UTF-8');
    }
  });

  it('answers bad percent-encoding on every model route with 400 and a clear message, and counts it', async () => {
    const gw = await buildTestGateway({
      version: 1,
      auth: { api_keys: [{ id: 'path-test', sha256: sha256(KEY), tenant: 'acme', scopes: ['infer:*'] }] },
      models: { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 100, upstreams: ['http://127.0.0.1:9'] }] } },
    });
    const routes = BAD.flatMap((bad) => [
      ['POST', `/v2/models/${bad}/infer`],
      ['POST', `/v2/models/${bad}/versions/1/infer`],
      ['POST', `/v2/models/m/versions/${bad}/infer`],
      ['POST', `/v1/models/${bad}:predict`],
      ['POST', `/v1/models/m/versions/${bad}:predict`],
      ['GET', `/v2/models/${bad}`],
      ['GET', `/v2/models/${bad}/ready`],
      ['GET', `/v2/models/m/versions/${bad}`],
      ['GET', `/v2/models/${bad}/versions/1/ready`],
    ]);
    for (const [method, path] of routes) {
      // With and without credentials: the path is refused before anything reads it.
      for (const headers of [{ authorization: `Bearer ${KEY}` }, {}] as Array<Record<string, string>>) {
        const res = await gw.app.request(path as string, { method: method as string, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(((await res.json()) as { error: string }).error).toMatch(/^the (model name|version) in the path is not valid percent-encoded UTF-8$/);
      }
    }
    const metrics = await (await gw.app.request('/metrics')).text();
    expect(metrics).toContain(`switchyard_gateway_requests_total{model="unknown",variant="none",status="400"} ${routes.length * 2}`);
    expect(gw.logs.lines.filter((l) => l.level === 'error')).toEqual([]);
    await gw.close();
  });
});
