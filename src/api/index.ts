// The API of vcd-operator.io/v1alpha1: per kind its schema, TypeScript types, resource
// descriptor and validator; plus the shared vocabulary (conditions, reasons, policies) and the
// IP helpers controllers need to re-check what the apiserver checked.
import { ClusterVCDConnectionKind, type ClusterVCDConnection } from './cluster-vcd-connection.ts';
import { EdgeFirewallRuleKind, type EdgeFirewallRule } from './edge-firewall-rule.ts';
import { FloatingIPClaimKind, type FloatingIPClaim } from './floating-ip-claim.ts';
import { IPPrefixClaimKind, type IPPrefixClaim } from './ip-prefix-claim.ts';
import { IPSpaceKind, type IPSpace } from './ip-space.ts';
import { NSXConnectionKind, type NSXConnection } from './nsx-connection.ts';
import { EdgeStaticRouteKind, type EdgeStaticRoute } from './edge-static-route.ts';
import { EdgeGatewayUplinkKind, type EdgeGatewayUplink } from './edge-gateway-uplink.ts';
import { TrafficMeterKind, type TrafficMeter } from './traffic-meter.ts';
import { descriptorOf, type KindDefinition } from './kind.ts';
import { validatorFor, type Validator } from './validate.ts';
import { VCDConnectionKind, type VCDConnection } from './vcd-connection.ts';
import { VCenterTrustKind, type VCenterTrust } from './vcenter-trust.ts';

export {
  API_VERSION,
  CATEGORY,
  ConditionTypes,
  ConnectionKinds,
  EventBusReasons,
  DeletionPolicies,
  GROUP,
  Reasons,
  ReclaimPolicies,
  VERSION,
  type CloudRef,
  type Condition,
  type ConnectionKind,
  type ConnectionRef,
  type DeletionPolicy,
  type Reason,
  type ReclaimPolicy,
} from './common.ts';
export type { KindDefinition, PrinterColumn, ResourceDescriptor } from './kind.ts';
export { crdFileName, crdOf, type CustomResourceDefinition } from './crd.ts';
export { formatProblems, InvalidSpecError, type FieldProblem, type ValidationResult, type Validator } from './validate.ts';
export { isLabelKey, isLabelValue, type LabelSelector } from './label-selector.ts';
export * as ip from './ip.ts';

export { CredentialKeys, VCDConnectionSchema, type VCDConnection, type VCDConnectionSpec, type VCDConnectionStatus } from './vcd-connection.ts';
export {
  ClusterVCDConnectionSchema,
  type ClusterVCDConnection,
  type ClusterVCDConnectionSpec,
  type ClusterVCDConnectionStatus,
} from './cluster-vcd-connection.ts';
export { NSXConnectionSchema, NsxCredentialKeys, type NSXConnection, type NSXConnectionSpec, type NSXConnectionStatus } from './nsx-connection.ts';
export { EdgeStaticRouteSchema, type EdgeStaticRoute, type EdgeStaticRouteSpec, type EdgeStaticRouteStatus } from './edge-static-route.ts';
export { EdgeGatewayUplinkSchema, type EdgeGatewayUplink, type EdgeGatewayUplinkSpec, type EdgeGatewayUplinkStatus } from './edge-gateway-uplink.ts';
export { TrafficMeterSchema, MeterPoints, type MeterPoint, type TrafficMeter, type TrafficMeterSpec, type TrafficMeterStatus } from './traffic-meter.ts';
export { IPSpaceSchema, IPSpaceTypes, VCD_IP_SPACE_TYPE, type IPSpace, type IPSpaceSpec, type IPSpaceStatus, type IPSpaceType } from './ip-space.ts';
export { FloatingIPClaimSchema, type FloatingIPClaim, type FloatingIPClaimSpec, type FloatingIPClaimStatus } from './floating-ip-claim.ts';
export {
  VCenterCredentialKeys,
  VCenterTrustSchema,
  type VCenterTrust,
  type VCenterTrustMember,
  type VCenterTrustMemberStatus,
  type VCenterTrustSpec,
  type VCenterTrustStatus,
} from './vcenter-trust.ts';
export {
  EdgeFirewallRuleSchema,
  FirewallActions,
  FirewallDirections,
  FirewallIPProtocols,
  isFirewallAddress,
  PortProtocols,
  type EdgeFirewallRule,
  type EdgeFirewallRuleSpec,
  type EdgeFirewallRuleStatus,
} from './edge-firewall-rule.ts';
export { IPPrefixClaimSchema, type IPPrefixClaim, type IPPrefixClaimSpec, type IPPrefixClaimStatus } from './ip-prefix-claim.ts';

/** Resource descriptors: what the runtime needs to list, watch, patch and name each kind. */
export const VCDConnectionResource = descriptorOf(VCDConnectionKind);
export const ClusterVCDConnectionResource = descriptorOf(ClusterVCDConnectionKind);
export const IPSpaceResource = descriptorOf(IPSpaceKind);
export const FloatingIPClaimResource = descriptorOf(FloatingIPClaimKind);
export const IPPrefixClaimResource = descriptorOf(IPPrefixClaimKind);
export const VCenterTrustResource = descriptorOf(VCenterTrustKind);
export const EdgeFirewallRuleResource = descriptorOf(EdgeFirewallRuleKind);
export const NSXConnectionResource = descriptorOf(NSXConnectionKind);
export const EdgeStaticRouteResource = descriptorOf(EdgeStaticRouteKind);
export const EdgeGatewayUplinkResource = descriptorOf(EdgeGatewayUplinkKind);
export const TrafficMeterResource = descriptorOf(TrafficMeterKind);

/** Validators: `validateX.validate(obj, old?)` returns problems; `validateX.assert(obj, old?)` throws InvalidSpecError. */
export const validateVCDConnection: Validator<VCDConnection> = validatorFor(VCDConnectionKind);
export const validateClusterVCDConnection: Validator<ClusterVCDConnection> = validatorFor(ClusterVCDConnectionKind);
export const validateIPSpace: Validator<IPSpace> = validatorFor(IPSpaceKind);
export const validateFloatingIPClaim: Validator<FloatingIPClaim> = validatorFor(FloatingIPClaimKind);
export const validateIPPrefixClaim: Validator<IPPrefixClaim> = validatorFor(IPPrefixClaimKind);
export const validateVCenterTrust: Validator<VCenterTrust> = validatorFor(VCenterTrustKind);
export const validateEdgeFirewallRule: Validator<EdgeFirewallRule> = validatorFor(EdgeFirewallRuleKind);
export const validateNSXConnection: Validator<NSXConnection> = validatorFor(NSXConnectionKind);
export const validateEdgeStaticRoute: Validator<EdgeStaticRoute> = validatorFor(EdgeStaticRouteKind);
export const validateTrafficMeter: Validator<TrafficMeter> = validatorFor(TrafficMeterKind);
export const validateEdgeGatewayUplink: Validator<EdgeGatewayUplink> = validatorFor(EdgeGatewayUplinkKind);

/** Every kind of the group, in a stable order (the CRD generator and the demo walk this). */
export const kinds: readonly KindDefinition[] = [
  VCDConnectionKind,
  ClusterVCDConnectionKind,
  IPSpaceKind,
  FloatingIPClaimKind,
  IPPrefixClaimKind,
  VCenterTrustKind,
  EdgeFirewallRuleKind,
  NSXConnectionKind,
  EdgeStaticRouteKind,
  EdgeGatewayUplinkKind,
  TrafficMeterKind,
];
