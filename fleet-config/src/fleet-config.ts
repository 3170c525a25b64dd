/**
 * The schema of `switchyard.yaml`: the one file that describes the fleet —
 * models and their variants, API keys (digests only), JWT settings,
 * rate-limit policies and gateway settings. The gateway, the local fleet
 * runner and the mesh renderer all read it.
 */
import { z } from 'zod';

const NAME = /^[a-z0-9][a-z0-9._-]*$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** A local variant without `grpc_port` serves gRPC this far above its HTTP port. */
export const GRPC_PORT_OFFSET = 1000;

export const SIGNING_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

export const ApiKeySchema = z
  .object({
    /** A name for the key (not secret); the principal's subject unless `subject` is set. */
    id: z.string().regex(NAME),
    /** Lower-case hex SHA-256 of the key. The key itself is never stored. */
    sha256: z.string().regex(HEX_SHA256, 'must be the 64-character lower-case hex SHA-256 of the key'),
    tenant: z.string().min(1),
    subject: z.string().min(1).optional(),
    /** e.g. `infer:*`, `infer:seed-classifier`, `variant:override`. */
    scopes: z.array(z.string().min(1)).min(1),
  })
  .strict();

const JwtSchema = z
  .object({
    issuer: z.string().min(1),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** Asymmetric algorithms only: `none` and HMAC are refused, which rules out HS/RS confusion. */
    algorithms: z.array(z.enum(SIGNING_ALGORITHMS)).min(1).default(['RS256', 'ES256']),
    /** Remote key set (fetched with caching). Exactly one of `jwks_uri` and `jwks`. */
    jwks_uri: z.url().optional(),
    /** Inline key set. */
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
    clock_skew_seconds: z.number().int().min(0).max(300).default(30),
    /** Claim holding the tenant. Default `tenant`. */
    tenant_claim: z.string().min(1).default('tenant'),
    /** Claim holding scopes: a space-separated string or an array. Default `scope`. */
    scope_claim: z.string().min(1).default('scope'),
  })
  .strict()
  .refine((jwt) => (jwt.jwks_uri === undefined) !== (jwt.jwks === undefined), { message: 'set exactly one of jwks_uri and jwks' });

const RateLimitPolicySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]+$/),
    /** What one bucket belongs to. */
    per: z.enum(['tenant', 'api_key', 'subject', 'model']),
    /** Sustained requests per `period_seconds`. */
    rate: z.number().positive(),
    period_seconds: z.number().positive().default(1),
    /** Requests that may arrive at once on top of the sustained rate. */
    burst: z.number().int().min(1),
    /** Limit only these models. Default: all. */
    models: z.array(z.string()).optional(),
  })
  .strict();

const VariantSchema = z
  .object({
    name: z.string().regex(NAME),
    /** The model version this variant serves. */
    version: z.number().int().positive(),
    /** Share of traffic in percent; a model's weights sum to 100. */
    weight: z.number().min(0).max(100),
    pool: z.enum(['cpu', 'gpu']).default('cpu'),
    replicas: z.number().int().min(1).max(64).default(1),
    /** Local fleet: port of the first replica; further replicas take the next ports. */
    port: z.number().int().min(1).max(65535).optional(),
    /**
     * Local fleet: gRPC port of the first replica; further replicas take the
     * next ports. Only with `port`; default `port + 1000` (see `variantGrpcPorts`).
     */
    grpc_port: z.number().int().min(1).max(65535).optional(),
    /** Remote workers: one base URL per replica (instead of `port`). */
    upstreams: z.array(z.url()).min(1).optional(),
    /** Edge worker for requests routed to this variant; overrides the model's `edge_worker`. */
    edge_worker: z.string().regex(NAME).optional(),
  })
  .strict()
  .refine((v) => (v.port === undefined) !== (v.upstreams === undefined), { message: 'set exactly one of port and upstreams' })
  .refine((v) => v.grpc_port === undefined || v.port !== undefined, { path: ['grpc_port'], message: 'grpc_port applies to local workers (with port), not to upstreams' })
  .refine((v) => v.port === undefined || (v.grpc_port ?? v.port + GRPC_PORT_OFFSET) + v.replicas - 1 <= 65535, {
    path: ['grpc_port'],
    message: `the derived gRPC ports (port + ${GRPC_PORT_OFFSET}) pass 65535; set grpc_port`,
  });

const ModelSchema = z
  .object({
    /** The variant that takes traffic when others fail, and the rollback target. */
    stable: z.string(),
    variants: z.array(VariantSchema).min(1),
    /** Copy `percent` of requests to `variant`, fire-and-forget. */
    shadow: z.object({ variant: z.string(), percent: z.number().min(0).max(100) }).strict().optional(),
    /** Edge worker (a name under `edge_workers`) run in front of every variant that names none of its own. */
    edge_worker: z.string().regex(NAME).optional(),
  })
  .strict()
  .superRefine((model, ctx) => {
    const names = model.variants.map((v) => v.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['variants'], message: 'variant names must be unique' });
    const total = model.variants.reduce((sum, v) => sum + v.weight, 0);
    if (Math.abs(total - 100) > 1e-9) ctx.addIssue({ code: 'custom', path: ['variants'], message: `weights must sum to 100, they sum to ${total}` });
    if (!names.includes(model.stable)) ctx.addIssue({ code: 'custom', path: ['stable'], message: `'${model.stable}' is not one of the variants (${names.join(', ')})` });
    if (model.shadow && !names.includes(model.shadow.variant)) {
      ctx.addIssue({ code: 'custom', path: ['shadow', 'variant'], message: `'${model.shadow.variant}' is not one of the variants` });
    }
  });

const EdgeWorkerSchema = z
  .object({
    /** Path of the TypeScript module (`export default { fetch(request, env, ctx) }`), relative to the config file. */
    module: z.string().min(1),
    /** Plain strings the module reads as `env.<NAME>`. `MODEL` is reserved for the model binding. */
    vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).refine((k) => k !== 'MODEL', 'MODEL is reserved'), z.string()).default({}),
    /** Extra `host:port` the module may reach besides the model binding. Default: none. */
    allow_net: z.array(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be host or host:port')).default([]),
    /** V8 old-space limit of the worker's Deno process. Default 128. */
    memory_mb: z.number().int().min(16).max(4096).default(128),
    /** Per request; beyond it the process is killed and restarted. Default 2000. */
    timeout_ms: z.number().int().min(10).max(60_000).default(2000),
    /** When the worker fails: `fail` answers 502/504; `bypass` sends the original request to the model. */
    failure: z.enum(['fail', 'bypass']).default('fail'),
    /**
     * `host:port` of a host already running this worker (in a cluster: the
     * gateway pod's sidecar on loopback). The gateway then calls it instead of
     * starting a Deno process, and whoever started it supervises it (the
     * kubelet's probes). Default: the gateway starts and supervises the process.
     */
    endpoint: z.string().regex(/^[A-Za-z0-9.-]+:\d+$/, 'must be host:port').optional(),
    /**
     * `process` (default): its own least-privilege Deno process. `inline`:
     * imported into the gateway's own process — for trusted code and unit
     * tests only, NOT isolated (no permission sandbox, no memory limit, a
     * busy loop stalls the gateway; `timeout_ms` only stops waiting).
     */
    isolation: z.enum(['process', 'inline']).default('process'),
  })
  .strict()
  .refine((w) => !(w.isolation === 'inline' && w.endpoint !== undefined), { path: ['isolation'], message: 'an inline worker has no endpoint' });

const RouteSchema = z
  .object({
    /** A gateway path served by the model's edge worker, e.g. `/predict`. */
    path: z.string().regex(/^\/[A-Za-z0-9._~/-]*$/).refine((p) => !p.startsWith('/v1/') && !p.startsWith('/v2') && p !== '/metrics', 'must not shadow /v1, /v2 or /metrics'),
    model: z.string().regex(NAME),
    /** The edge worker that owns this path, for every variant. Default: the routed variant's (or model's) edge worker. */
    edge_worker: z.string().regex(NAME).optional(),
  })
  .strict();

const GatewaySchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().min(1).default('127.0.0.1'),
    /**
     * Port of the gRPC endpoint (inference.GRPCInferenceService) on `host`, or
     * none. Triton's clients expect 8001. `GRPC_PORT` in the environment overrides it.
     */
    grpc_port: z.number().int().min(0).max(65535).optional(),
    /** Larger request bodies get 413. Default 16 MiB. */
    body_limit_bytes: z.number().int().min(1024).default(16 * 1024 * 1024),
    connect_timeout_ms: z.number().int().min(1).default(1000),
    /** How long a Redis command (rate limit, flags) may take before the fallback applies. */
    redis_command_timeout_ms: z.number().int().min(10).default(250),
    /** Overall time to the upstream's response headers, all attempts together; beyond it 504. */
    response_timeout_ms: z.number().int().min(1).default(30_000),
    /**
     * Time one attempt may wait for a replica's response headers before the
     * request moves to the next replica (then the stable variant). Default: a
     * third of `response_timeout_ms`. At most `response_timeout_ms`.
     */
    attempt_timeout_ms: z.number().int().min(1).optional(),
    /** Header naming the end user an application calls on behalf of (sticky routing key). */
    user_header: z.string().min(1).toLowerCase().default('x-switchyard-user'),
    health_interval_ms: z.number().int().min(100).default(2000),
    /**
     * Loopback port of the model binding that edge workers call back into
     * (`env.MODEL`). Default 0: any free port, right for workers the gateway
     * starts itself; workers at an `endpoint` need a fixed one. Read at start-up.
     */
    edge_binding_port: z.number().int().min(0).max(65535).default(0),
    /** The admin API's port; keep it off the public network. */
    admin_port: z.number().int().min(0).max(65535).default(8081),
    admin_host: z.string().min(1).default('127.0.0.1'),
    /** How often the rollout lease holder checks running plans. */
    rollout_tick_ms: z.number().int().min(50).default(1000),
    circuit_breaker: z
      .object({
        /** Consecutive failures that open an upstream's breaker. */
        failures: z.number().int().min(1).default(3),
        /** How long an open breaker waits before letting a probe through. */
        cooldown_ms: z.number().int().min(1).default(5000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((g) => g.attempt_timeout_ms === undefined || g.attempt_timeout_ms <= g.response_timeout_ms, {
    path: ['attempt_timeout_ms'],
    message: 'must not exceed response_timeout_ms',
  })
  .transform((g) => ({ ...g, attempt_timeout_ms: g.attempt_timeout_ms ?? Math.max(1, Math.floor(g.response_timeout_ms / 3)) }))
  .prefault({});

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const identityFields = (namespace: string, serviceAccount: string) => ({
  namespace: z.string().regex(DNS_LABEL).default(namespace),
  service_account: z.string().regex(DNS_LABEL).default(serviceAccount),
});

/** How the mesh renderer places the fleet in a cluster (read only by `npm run mesh`). Every field has a default. */
export const MeshSchema = z
  .object({
    /** Namespace of every rendered object. Default `switchyard`. */
    namespace: z.string().regex(DNS_LABEL).default('switchyard'),
    /** Render the Namespace object too (then `kubectl delete -k` deletes it, with its Secrets and volumes). Default false. */
    create_namespace: z.boolean().default(false),
    /** SPIFFE trust domain of the mesh, for principals. Default `cluster.local`. */
    trust_domain: z.string().regex(DNS_NAME).default('cluster.local'),
    /** The cluster's DNS domain, for Service hosts. Default `cluster.local`. */
    cluster_domain: z.string().regex(DNS_NAME).default('cluster.local'),
    /** Hosts the ingress serves (TLS). Default `switchyard.example.com`. */
    hosts: z.array(z.string().regex(DNS_NAME)).min(1).default(['switchyard.example.com']),
    /** TLS Secret (`tls.crt`, `tls.key`) in the ingress gateway's namespace. Default `switchyard-tls`. */
    tls_secret: z.string().regex(DNS_LABEL).default('switchyard-tls'),
    /** The Istio ingress gateway's identity and pod labels. */
    ingress: z
      .object({ ...identityFields('istio-system', 'istio-ingressgateway-service-account'), selector: z.record(z.string(), z.string()).default({ istio: 'ingressgateway' }) })
      .strict()
      .prefault({}),
    /** The metrics scraper's identity (e.g. Prometheus in the mesh); only it may read `/metrics`. */
    scraper: z.object(identityFields('monitoring', 'prometheus')).strict().prefault({}),
    /** Redis outside the cluster (the dev overlay runs its own): host and port for a ServiceEntry. */
    redis: z.object({ external_host: z.string().regex(DNS_NAME).optional(), port: z.number().int().min(1).max(65535).default(6379) }).strict().prefault({}),
  })
  .strict();

export const FleetConfigSchema = z
  .object({
    version: z.literal(1),
    /** Where the local fleet's workers load models from. Default `models`. */
    model_repository: z.string().min(1).default('models'),
    gateway: GatewaySchema,
    auth: z
      .object({ api_keys: z.array(ApiKeySchema).default([]), jwt: JwtSchema.optional() })
      .strict()
      .prefault({}),
    rate_limits: z
      .object({
        /** When Redis fails: `local` keeps limiting per replica; `closed` answers 503. */
        on_redis_failure: z.enum(['local', 'closed']).default('local'),
        policies: z.array(RateLimitPolicySchema).default([]),
      })
      .strict()
      .prefault({}),
    models: z.record(z.string().regex(NAME), ModelSchema).refine((m) => Object.keys(m).length > 0, 'at least one model'),
    /** Kubernetes placement for the mesh renderer; the gateway and local fleet ignore it. */
    mesh: MeshSchema.optional(),
    /** User modules run in front of models, each in its own Deno process. */
    edge_workers: z.record(z.string().regex(NAME), EdgeWorkerSchema).default({}),
    /** Extra gateway paths owned by a model's edge workers (POST only). */
    routes: z.array(RouteSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const edge = new Set(Object.keys(config.edge_workers));
    for (const [model, spec] of Object.entries(config.models)) {
      if (spec.edge_worker !== undefined && !edge.has(spec.edge_worker)) ctx.addIssue({ code: 'custom', path: ['models', model, 'edge_worker'], message: `'${spec.edge_worker}' is not one of edge_workers` });
      spec.variants.forEach((v, i) => {
        if (v.edge_worker !== undefined && !edge.has(v.edge_worker)) ctx.addIssue({ code: 'custom', path: ['models', model, 'variants', i, 'edge_worker'], message: `'${v.edge_worker}' is not one of edge_workers` });
      });
    }
    const paths = new Set<string>();
    config.routes.forEach((r, i) => {
      if (paths.has(r.path)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'path'], message: `'${r.path}' is routed twice` });
      paths.add(r.path);
      const model = Object.hasOwn(config.models, r.model) ? config.models[r.model] : undefined;
      if (!model) return ctx.addIssue({ code: 'custom', path: ['routes', i, 'model'], message: `'${r.model}' is not one of the models` });
      if (r.edge_worker !== undefined) {
        if (!edge.has(r.edge_worker)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'edge_worker'], message: `'${r.edge_worker}' is not one of edge_workers` });
        return;
      }
      // Only an edge worker understands a custom path: every variant must have one.
      if (model.variants.some((v) => (v.edge_worker ?? model.edge_worker) === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'model'], message: `every variant of '${r.model}' needs an edge_worker to serve '${r.path}'` });
      }
    });
    const ids = config.auth.api_keys.map((k) => k.id);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: 'custom', path: ['auth', 'api_keys'], message: 'key ids must be unique' });
    const ports = new Map<number, string>();
    for (const [model, spec] of Object.entries(config.models)) {
      for (const variant of spec.variants) {
        if (variant.port === undefined) continue;
        const grpcPorts = variantGrpcPorts(variant);
        for (let r = 0; r < variant.replicas; r++) {
          const owner = `${model}/${variant.name}#${r}`;
          for (const [port, label] of [[variant.port + r, 'port'], [grpcPorts[r], 'gRPC port']] as const) {
            if (port === undefined) continue;
            const taken = ports.get(port);
            if (taken) ctx.addIssue({ code: 'custom', path: ['models', model, 'variants'], message: `${label} ${port} of ${owner} is already used by ${taken}` });
            ports.set(port, `${owner}${label === 'port' ? '' : ' (gRPC)'}`);
          }
        }
      }
    }
  });

export type FleetConfig = z.infer<typeof FleetConfigSchema>;
export type ModelConfig = FleetConfig['models'][string];
export type VariantConfig = ModelConfig['variants'][number];
export type ApiKeyConfig = FleetConfig['auth']['api_keys'][number];
export type MeshConfig = z.infer<typeof MeshSchema>;
export type JwtConfig = NonNullable<FleetConfig['auth']['jwt']>;
export type EdgeWorkerConfig = FleetConfig['edge_workers'][string];
export type RateLimitPolicyConfig = FleetConfig['rate_limits']['policies'][number];

/**
 * gRPC ports of a local variant's replicas: from `grpc_port`, else
 * `port + GRPC_PORT_OFFSET`; none for remote upstreams.
 */
export function variantGrpcPorts(variant: Pick<VariantConfig, 'port' | 'grpc_port' | 'replicas'>): number[] {
  if (variant.port === undefined) return [];
  const first = variant.grpc_port ?? variant.port + GRPC_PORT_OFFSET;
  return Array.from({ length: variant.replicas }, (_, r) => first + r);
}

/** Base URLs of a variant's replicas. */
export function variantUpstreams(variant: VariantConfig, host = '127.0.0.1'): string[] {
  if (variant.upstreams) return variant.upstreams.map((u) => u.replace(/\/+$/, ''));
  return Array.from({ length: variant.replicas }, (_, r) => `http://${host}:${(variant.port ?? 0) + r}`);
}
