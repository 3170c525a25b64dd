import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { variantGrpcPorts, variantUpstreams } from './fleet-config.ts';
import { FleetConfigError, loadFleetConfig, parseFleetConfig } from './load-fleet-config.ts';

const EXAMPLE = fileURLToPath(new URL('../../switchyard.yaml', import.meta.url));

const minimal = () => ({
  version: 1,
  models: { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 100, port: 9500 }] } },
});

describe('fleet config', () => {
  it('accepts the example switchyard.yaml and fills defaults', async () => {
    const config = await loadFleetConfig(EXAMPLE);
    expect(Object.keys(config.models)).toEqual(['seed-classifier', 'wide-mlp', 'image-stats']);
    expect(config.gateway.port).toBe(8080);
    const v1 = config.models['seed-classifier']?.variants[0];
    expect(v1 && variantUpstreams(v1)).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
    expect(config.gateway.grpc_port).toBe(8001);
    expect(v1 && variantGrpcPorts(v1)).toEqual([10001, 10002]);
  });

  it('derives local gRPC ports (port + 1000 unless grpc_port is set) and checks them for clashes', () => {
    const derived = parseFleetConfig(minimal(), 'x.yaml');
    expect(derived.gateway.grpc_port).toBeUndefined();
    const a = derived.models.m?.variants[0];
    expect(a && variantGrpcPorts(a)).toEqual([10500]);
    const remote = { name: 'r', version: 1, weight: 100, upstreams: ['http://w:8000'], replicas: 1 };
    expect(variantGrpcPorts(remote)).toEqual([]);
    const clash = { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 50, port: 9500, grpc_port: 9600, replicas: 2 }, { name: 'b', version: 2, weight: 50, port: 9601 }] } };
    expect(() => parseFleetConfig({ ...minimal(), models: clash }, 'f.yaml')).toThrowError(/port 9601 of m\/b#0 is already used by m\/a#1 \(gRPC\)/);
    const high = { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 100, port: 65000 }] } };
    expect(() => parseFleetConfig({ ...minimal(), models: high }, 'f.yaml')).toThrowError(/models\.m\.variants\.0\.grpc_port: the derived gRPC ports \(port \+ 1000\) pass 65535; set grpc_port/);
    const upstream = { m: { stable: 'a', variants: [{ name: 'a', version: 1, weight: 100, upstreams: ['http://w:1'], grpc_port: 9000 }] } };
    expect(() => parseFleetConfig({ ...minimal(), models: upstream }, 'f.yaml')).toThrowError(/grpc_port applies to local workers/);
  });

  it('reads the mesh section with its defaults, and refuses names Kubernetes would refuse', () => {
    const config = parseFleetConfig({ ...minimal(), mesh: { namespace: 'ml-serving', hosts: ['api.example.com'] } }, 'x.yaml');
    expect(config.mesh).toMatchObject({ namespace: 'ml-serving', create_namespace: false, trust_domain: 'cluster.local', cluster_domain: 'cluster.local', hosts: ['api.example.com'], tls_secret: 'switchyard-tls', redis: { port: 6379 } });
    expect(parseFleetConfig(minimal(), 'x.yaml').mesh).toBeUndefined();
    expect(() => parseFleetConfig({ ...minimal(), mesh: { namespace: 'ML_Serving', hosts: [] } }, 'x.yaml')).toThrowError(/mesh\.namespace[\s\S]*mesh\.hosts/);
  });

  it('applies defaults to a minimal file', () => {
    const config = parseFleetConfig(minimal(), 'x.yaml');
    expect(config.gateway).toMatchObject({ port: 8080, body_limit_bytes: 16 * 1024 * 1024, user_header: 'x-switchyard-user' });
    expect(config.rate_limits).toEqual({ on_redis_failure: 'local', policies: [] });
    expect(config.models.m?.variants[0]).toMatchObject({ pool: 'cpu', replicas: 1 });
  });

  it('defaults the per-attempt timeout to a third of the response timeout and refuses one above it', () => {
    expect(parseFleetConfig(minimal(), 'x.yaml').gateway).toMatchObject({ response_timeout_ms: 30_000, attempt_timeout_ms: 10_000 });
    expect(parseFleetConfig({ ...minimal(), gateway: { response_timeout_ms: 900 } }, 'x.yaml').gateway.attempt_timeout_ms).toBe(300);
    expect(() => parseFleetConfig({ ...minimal(), gateway: { response_timeout_ms: 1000, attempt_timeout_ms: 2000 } }, 'x.yaml')).toThrow(/gateway\.attempt_timeout_ms: must not exceed response_timeout_ms/);
  });

  it('reports every error with its path and the file', () => {
    const raw = {
      version: 1,
      gateway: { port: 'eighty', surprise: 1 },
      auth: { api_keys: [{ id: 'k', sha256: 'not-hex', tenant: 't', scopes: [] }] },
      rate_limits: { policies: [{ name: 'p', per: 'planet', rate: 0, burst: 1 }] },
      models: {
        m: {
          stable: 'zz',
          variants: [
            { name: 'a', version: 1, weight: 70, port: 9500 },
            { name: 'a', version: 2, weight: 20, upstreams: ['http://x:1'], port: 9600 },
          ],
          shadow: { variant: 'nope', percent: 5 },
        },
      },
    };
    let message = '';
    try {
      parseFleetConfig(raw, 'fleet.yaml');
    } catch (error) {
      expect(error).toBeInstanceOf(FleetConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^fleet\.yaml: invalid fleet config:/);
    for (const path of [
      'gateway.port', 'gateway: Unrecognized key: "surprise"', 'auth.api_keys.0.sha256', 'auth.api_keys.0.scopes',
      'rate_limits.policies.0.per', 'rate_limits.policies.0.rate', 'models.m.variants.1: set exactly one of port and upstreams',
    ]) {
      expect(message).toContain(path);
    }
  });

  it('checks weights, the stable variant, shadow variants and port clashes', () => {
    const config = minimal();
    const models = {
      m: {
        stable: 'zz',
        variants: [{ name: 'a', version: 1, weight: 70, port: 9500, replicas: 2 }, { name: 'b', version: 2, weight: 20, port: 9501 }],
        shadow: { variant: 'nope', percent: 5 },
      },
    };
    expect(() => parseFleetConfig({ ...config, models }, 'f.yaml')).toThrowError(
      /models\.m\.variants: weights must sum to 100, they sum to 90[\s\S]*models\.m\.stable: 'zz' is not one of the variants[\s\S]*models\.m\.shadow\.variant[\s\S]*port 9501 of m\/b#0 is already used by m\/a#1/,
    );
  });

  it('refuses YAML that does not parse and files that do not exist, naming them', async () => {
    await expect(loadFleetConfig('/nonexistent/switchyard.yaml')).rejects.toThrowError(/\/nonexistent\/switchyard\.yaml: cannot read/);
    expect(() => parseFleetConfig(parse('version: 2'), 'v.yaml')).toThrowError(/version/);
  });
});
