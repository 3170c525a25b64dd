/**
 * Istio (v1 APIs): the TLS ingress Gateway (HTTP redirected to HTTPS) and
 * its routes to the Switchyard gateway (REST, and gRPC over HTTP/2 to the
 * gateway's gRPC port); per variant Service a
 * DestinationRule (connection pool, outlier detection) and a VirtualService
 * with one destination (timeouts, retries; the gateway already chose the
 * variant, so nothing is re-split); STRICT mTLS; who may call whom
 * (ingress → gateway, gateway → workers, the scraper → `/metrics`);
 * optional JWT at the edge; tracing; a ServiceEntry for an external Redis.
 */
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import { Gateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import { ServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import { RequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { GATEWAY, gatewayGrpcPort, gatewayLabels, gatewayServingPorts, principalOf, serviceHost, variantWorkload, WORKER_APP } from '../naming.ts';
import type { RenderOptions } from './options.ts';

type IstioObject = Gateway | VirtualService | DestinationRule | ServiceEntry | PeerAuthentication | AuthorizationPolicy | RequestAuthentication | Telemetry;

export const INGRESS = 'switchyard-ingress';
/** `unavailable` is 503's gRPC counterpart (a worker still loading), for gRPC calls to a variant's Service. */
const RETRY_ON = 'connect-failure,refused-stream,reset,503,unavailable';
/** Every call of inference.GRPCInferenceService is a POST to a path under this prefix. */
const GRPC_SERVICE_PREFIX = '/inference.GRPCInferenceService/';

export function renderIstio(config: FleetConfig, options: RenderOptions): IstioObject[] {
  const { mesh } = options;
  const { namespace } = mesh;
  const host = (name: string) => serviceHost(name, namespace, mesh.cluster_domain);
  const timeout = `${Math.ceil(config.gateway.response_timeout_ms / 1000)}s`;
  const grpcPort = gatewayGrpcPort(config.gateway);
  const gatewayPorts = gatewayServingPorts(config.gateway);
  const scraper = { from: [{ source: { principals: [principalOf(mesh.trust_domain, mesh.scraper.namespace, mesh.scraper.service_account)] } }], to: [{ operation: { methods: ['GET'], paths: ['/metrics'] } }] };
  const objects: IstioObject[] = [
    new Gateway({
      metadata: { name: INGRESS, namespace },
      spec: {
        selector: mesh.ingress.selector,
        servers: [
          { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: mesh.hosts, tls: { mode: 'SIMPLE', credentialName: mesh.tls_secret, minProtocolVersion: 'TLSV1_2' } },
          { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: mesh.hosts, tls: { httpsRedirect: true } },
        ],
      },
    }),
    new VirtualService({
      metadata: { name: INGRESS, namespace },
      spec: {
        hosts: mesh.hosts,
        gateways: [INGRESS],
        http: [
          { name: 'rest', match: [{ uri: { prefix: '/v2' } }, { uri: { prefix: '/v1' } }], route: [{ destination: { host: host(GATEWAY), port: { number: 80 } } }], timeout },
          // gRPC clients reach the ingress over TLS (HTTP/2) and go on to the gateway's gRPC port.
          ...(grpcPort === undefined ? [] : [{ name: 'grpc', match: [{ uri: { prefix: GRPC_SERVICE_PREFIX } }], route: [{ destination: { host: host(GATEWAY), port: { number: grpcPort } } }], timeout }]),
        ],
      },
    }),
    new PeerAuthentication({ metadata: { name: 'default', namespace }, spec: { mtls: { mode: 'STRICT' } } }),
    new AuthorizationPolicy({
      metadata: { name: 'gateway-from-ingress', namespace },
      spec: {
        selector: { matchLabels: gatewayLabels() },
        action: 'ALLOW',
        // The admin port is left out: reach it with `kubectl port-forward`, which does not pass the sidecar.
        rules: [
          { from: [{ source: { principals: [principalOf(mesh.trust_domain, mesh.ingress.namespace, mesh.ingress.service_account)] } }], to: [{ operation: { ports: gatewayPorts.map(String) } }] },
          scraper,
        ],
      },
    }),
    new AuthorizationPolicy({
      metadata: { name: 'workers-from-gateway', namespace },
      spec: {
        selector: { matchLabels: { app: WORKER_APP } },
        action: 'ALLOW',
        rules: [{ from: [{ source: { principals: [principalOf(mesh.trust_domain, namespace, GATEWAY)] } }] }, scraper],
      },
    }),
    new Telemetry({
      metadata: { name: 'switchyard-tracing', namespace },
      spec: { tracing: [{ providers: [{ name: 'otel' }], randomSamplingPercentage: 10 }] },
    }),
  ];
  if (config.auth.jwt) {
    const jwt = config.auth.jwt;
    objects.push(new RequestAuthentication({
      metadata: { name: 'gateway-jwt', namespace },
      spec: {
        selector: { matchLabels: gatewayLabels() },
        jwtRules: [{ issuer: jwt.issuer, ...(jwt.jwks_uri ? { jwksUri: jwt.jwks_uri } : { jwks: JSON.stringify(jwt.jwks) }), forwardOriginalToken: true, audiences: Array.isArray(jwt.audience) ? jwt.audience : [jwt.audience] }],
      },
    }));
  }
  if (mesh.redis.external_host) {
    objects.push(new ServiceEntry({
      metadata: { name: 'switchyard-redis-external', namespace },
      spec: {
        hosts: [mesh.redis.external_host],
        location: 'MESH_EXTERNAL',
        ports: [{ number: mesh.redis.port, name: 'tcp-redis', protocol: 'TCP' }],
        resolution: 'DNS',
        exportTo: ['.'],
      },
    }));
  }
  for (const [model, spec] of Object.entries(config.models)) {
    for (const variant of spec.variants) {
      const name = variantWorkload(model, variant.name);
      objects.push(
        new DestinationRule({
          metadata: { name, namespace },
          spec: {
            host: host(name),
            trafficPolicy: {
              connectionPool: { tcp: { maxConnections: 1024 }, http: { http1MaxPendingRequests: 1024, maxRequestsPerConnection: 0 } },
              outlierDetection: { consecutive5xxErrors: config.gateway.circuit_breaker.failures, interval: '5s', baseEjectionTime: `${Math.ceil(config.gateway.circuit_breaker.cooldown_ms / 1000)}s`, maxEjectionPercent: 50 },
            },
          },
        }),
        new VirtualService({
          metadata: { name, namespace },
          spec: {
            hosts: [host(name)],
            http: [{ name: 'variant', route: [{ destination: { host: host(name) } }], timeout, retries: { attempts: 2, perTryTimeout: timeout, retryOn: RETRY_ON } }],
          },
        }),
      );
    }
  }
  return objects;
}
