/**
 * Istio: ingress Gateway and VirtualService to the Switchyard gateway; per
 * model a DestinationRule (a subset per variant, connection pool, outlier
 * detection) and a VirtualService routing on the `x-switchyard-variant`
 * header the gateway sends, with the config's weights for traffic that
 * bypasses the gateway; STRICT mTLS; workers accept only the gateway's
 * identity; optional JWT at the edge; tracing to the collector.
 */
import { AuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy';
import { PeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication';
import { RequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/RequestAuthentication';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { Gateway } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry';
import type { FleetConfig } from '@switchyard/fleet-config/schema';
import { GATEWAY, gatewayLabels, modelService, principalOf, VARIANT_HEADER } from '../naming.ts';
import type { RenderOptions } from './options.ts';

type IstioObject = Gateway | VirtualService | DestinationRule | PeerAuthentication | AuthorizationPolicy | RequestAuthentication | Telemetry;

export function renderIstio(config: FleetConfig, options: RenderOptions): IstioObject[] {
  const { namespace } = options;
  const gatewayHost = `${GATEWAY}.${namespace}.svc.cluster.local`;
  const timeout = `${Math.ceil(config.gateway.response_timeout_ms / 1000)}s`;
  const objects: IstioObject[] = [
    new Gateway({
      metadata: { name: 'switchyard-ingress', namespace },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
    }),
    new VirtualService({
      metadata: { name: 'switchyard-ingress', namespace },
      spec: {
        hosts: ['*'],
        gateways: ['switchyard-ingress'],
        http: [{ match: [{ uri: { prefix: '/v2' } }, { uri: { prefix: '/v1' } }], route: [{ destination: { host: gatewayHost, port: { number: 80 } } }], timeout }],
      },
    }),
    new PeerAuthentication({ metadata: { name: 'default', namespace }, spec: { mtls: { mode: 'STRICT' } } }),
    new AuthorizationPolicy({
      metadata: { name: 'workers-from-gateway', namespace },
      spec: {
        selector: { matchLabels: { app: 'switchyard-worker' } },
        action: 'ALLOW',
        rules: [
          { from: [{ source: { principals: [principalOf(namespace, GATEWAY)] } }] },
          // Metrics scrapers (Prometheus) may read /metrics, and nothing else.
          { to: [{ operation: { methods: ['GET'], paths: ['/metrics'] } }] },
        ],
      },
    }),
    new Telemetry({
      metadata: { name: 'switchyard-tracing', namespace },
      spec: { tracing: [{ providers: [{ name: 'otel' }], randomSamplingPercentage: 10 }] },
    }),
  ];
  if (config.auth.jwt) {
    const jwt = config.auth.jwt;
    objects.push(
      new RequestAuthentication({
        metadata: { name: 'gateway-jwt', namespace },
        spec: {
          selector: { matchLabels: gatewayLabels() },
          jwtRules: [{ issuer: jwt.issuer, ...(jwt.jwks_uri ? { jwksUri: jwt.jwks_uri } : { jwks: JSON.stringify(jwt.jwks) }), forwardOriginalToken: true, audiences: Array.isArray(jwt.audience) ? jwt.audience : [jwt.audience] }],
        },
      }),
    );
  }
  for (const [model, spec] of Object.entries(config.models)) {
    const host = `${modelService(model)}.${namespace}.svc.cluster.local`;
    objects.push(
      new DestinationRule({
        metadata: { name: modelService(model), namespace },
        spec: {
          host,
          trafficPolicy: {
            connectionPool: { tcp: { maxConnections: 1024 }, http: { http1MaxPendingRequests: 1024, maxRequestsPerConnection: 0 } },
            outlierDetection: { consecutive5xxErrors: config.gateway.circuit_breaker.failures, interval: '5s', baseEjectionTime: `${Math.ceil(config.gateway.circuit_breaker.cooldown_ms / 1000)}s`, maxEjectionPercent: 50 },
          },
          subsets: spec.variants.map((v) => ({ name: v.name, labels: { variant: v.name } })),
        },
      }),
      new VirtualService({
        metadata: { name: modelService(model), namespace },
        spec: {
          hosts: [host],
          http: [
            ...spec.variants.map((v) => ({
              name: `variant-${v.name}`,
              match: [{ headers: { [VARIANT_HEADER]: { exact: v.name } } }],
              route: [{ destination: { host, subset: v.name } }],
              timeout,
              retries: { attempts: 2, perTryTimeout: timeout, retryOn: 'connect-failure,refused-stream,reset,503' },
            })),
            {
              name: 'default-split',
              route: spec.variants.filter((v) => v.weight > 0).map((v) => ({ destination: { host, subset: v.name }, weight: v.weight })),
              timeout,
              retries: { attempts: 2, perTryTimeout: timeout, retryOn: 'connect-failure,refused-stream,reset,503' },
            },
          ],
        },
      }),
    );
  }
  return objects;
}
