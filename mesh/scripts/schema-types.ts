/**
 * The object types the mesh renders, gathered for JSON-schema generation
 * (see generate-schemas.ts): Kubernetes from `kubernetes-types`, Istio from
 * the typings of `@kubernetes-models/istio`.
 */
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import type { IGateway } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import type { IAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy';
import type { IPeerAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/PeerAuthentication';
import type { IRequestAuthentication } from '@kubernetes-models/istio/security.istio.io/v1beta1/RequestAuthentication';
import type { ITelemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1alpha1/Telemetry';

export interface RenderedKinds {
  Namespace: Namespace;
  ServiceAccount: ServiceAccount;
  ConfigMap: ConfigMap;
  Service: Service;
  Deployment: Deployment;
  HorizontalPodAutoscaler: HorizontalPodAutoscaler;
  PodDisruptionBudget: PodDisruptionBudget;
  Gateway: IGateway;
  VirtualService: IVirtualService;
  DestinationRule: IDestinationRule;
  PeerAuthentication: IPeerAuthentication;
  AuthorizationPolicy: IAuthorizationPolicy;
  RequestAuthentication: IRequestAuthentication;
  Telemetry: ITelemetry;
}
