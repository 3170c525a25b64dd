/**
 * The object types the mesh renders, gathered for JSON-schema generation
 * (see generate-schemas.ts): Kubernetes from `kubernetes-types`, Istio (v1
 * APIs) and prometheus-operator from the typings of `@kubernetes-models/*`.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1/DestinationRule';
import type { IGateway } from '@kubernetes-models/istio/networking.istio.io/v1/Gateway';
import type { IServiceEntry } from '@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1/VirtualService';
import type { IAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import type { IPeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication';
import type { IRequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication';
import type { ITelemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';

export interface RenderedKinds {
  Namespace: Namespace;
  ServiceAccount: ServiceAccount;
  ConfigMap: ConfigMap;
  Service: Service;
  Deployment: Deployment;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  PodDisruptionBudget: PodDisruptionBudget;
  PriorityClass: PriorityClass;
  NetworkPolicy: NetworkPolicy;
  Gateway: IGateway;
  VirtualService: IVirtualService;
  DestinationRule: IDestinationRule;
  ServiceEntry: IServiceEntry;
  PeerAuthentication: IPeerAuthentication;
  AuthorizationPolicy: IAuthorizationPolicy;
  RequestAuthentication: IRequestAuthentication;
  Telemetry: ITelemetry;
  PodMonitor: IPodMonitor;
}
