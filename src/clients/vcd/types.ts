// Wire shapes of the CloudAPI objects this client reads and writes, named and typed as in the
// VCD 37.2 OpenAPI spec (definitions of the same name). Read-only fields are optional.

export interface EntityRef {
  id?: string;
  name?: string;
}

export type NetworkingObjectStatus = 'PENDING' | 'CONFIGURING' | 'REALIZED' | 'REALIZATION_FAILED' | 'UNKNOWN';

export type IpSpaceType = 'PUBLIC' | 'PRIVATE' | 'SHARED_SERVICES';

export interface IpSpaceIpUtilizationCounts {
  totalCount?: string;
  allocatedCount?: string;
  usedCount?: string;
  unusedCount?: string;
  allocatedPercentage?: number;
  usedPercentage?: number;
}

export interface IpSpaceIpPrefixUtilizationCounts extends IpSpaceIpUtilizationCounts {
  prefixLengthUtilizations?: { prefixLength?: number; totalCount?: number; allocatedCount?: number }[];
}

export interface IpSpaceUtilizationSummary {
  floatingIPs?: IpSpaceIpUtilizationCounts;
  ipPrefixes?: IpSpaceIpPrefixUtilizationCounts;
}

export interface IpSpaceSummary {
  id?: string;
  name: string;
  description?: string;
  type: IpSpaceType;
  orgRef?: EntityRef;
  utilization?: IpSpaceUtilizationSummary;
  status?: NetworkingObjectStatus;
}

export interface IpSpaceRange {
  id?: string;
  startIpAddress: string;
  endIpAddress: string;
  totalIpCount?: string;
  allocatedIpCount?: string;
  allocatedIpPercentage?: number;
}

export interface IpSpacePrefix {
  id?: string;
  startingPrefixIpAddress: string;
  prefixLength: number;
  totalPrefixCount: number;
  allocatedPrefixCount?: number;
  allocatedPrefixPercentage?: number;
}

export interface IpSpacePrefixes {
  ipPrefixSequence: IpSpacePrefix[];
  defaultQuotaForPrefixLength?: number;
}

export interface IpSpace extends IpSpaceSummary {
  ipSpaceRanges?: { ipRanges: IpSpaceRange[]; defaultFloatingIpQuota?: number };
  ipSpacePrefixes?: IpSpacePrefixes[];
  ipSpaceInternalScope: string[];
  ipSpaceExternalScope?: string;
  routeAdvertisementEnabled?: boolean;
}

export interface IpSpaceUplink {
  id?: string;
  name: string;
  description?: string;
  externalNetworkRef: EntityRef;
  ipSpaceRef: EntityRef;
  ipSpaceType?: IpSpaceType;
  status?: NetworkingObjectStatus;
}

export interface IpSpaceIpQuota {
  floatingIpQuota?: number;
  ipPrefixQuotas?: { prefixLength: number; quota?: number }[];
}

export interface IpSpaceOrgAssignment {
  id?: string;
  ipSpaceRef: EntityRef;
  orgRef: EntityRef;
  ipSpaceType?: IpSpaceType;
  defaultQuotas?: IpSpaceIpQuota;
  customQuotas?: IpSpaceIpQuota | null;
}

export type AllocationType = 'FLOATING_IP' | 'IP_PREFIX';
export type UsageState = 'UNUSED' | 'USED' | 'USED_MANUAL';

export interface IpSpaceIpAllocationRequest {
  type: AllocationType;
  quantity?: number;
  prefixLength?: number;
  /** API 37.2+. A specific IP, CIDR or range; exclusive with quantity. */
  value?: string;
}

export interface IpSpaceIpAllocation {
  id?: string;
  type?: AllocationType;
  value?: string;
  allocationDate?: string;
  orgRef?: EntityRef;
  usageState?: UsageState;
  description?: string;
  usedByRef?: EntityRef;
  usageCategories?: string[];
}

/** One element of the allocate task's ResultContent JSON array. */
export interface AllocationResult {
  id: string;
  value: string;
  suggestedValue?: string;
}

export interface IpSpaceFloatingIpSuggestion {
  ipSpaceRef?: EntityRef;
  unusedValues?: string[];
}

export interface EdgeGatewayUplink {
  uplinkId?: string;
  uplinkName?: string;
  subnets?: { values?: unknown[] };
  connected?: boolean;
  quickAddAllocatedIpCount?: number;
  dedicated?: boolean;
  usingIpSpace?: boolean;
  vrfLiteBacked?: boolean;
  backingType?: string;
}

export interface EdgeGateway {
  id?: string;
  name: string;
  description?: string;
  status?: NetworkingObjectStatus;
  edgeGatewayUplinks: EdgeGatewayUplink[];
  distributedRoutingEnabled?: boolean;
  nonDistributedRoutingEnabled?: boolean;
  orgVdcNetworkCount?: number;
  gatewayBacking?: { backingId?: string; gatewayType?: string; networkProvider?: EntityRef };
  ownerRef?: EntityRef;
  orgRef?: EntityRef;
  serviceNetworkDefinition?: string;
  distributedRouterUplinkNetworkDefinition?: string;
  edgeClusterConfig?: unknown;
}

export type FirewallIpProtocol = 'IPV4' | 'IPV6' | 'IPV4_IPV6';
export type FirewallDirection = 'IN' | 'OUT' | 'IN_OUT';

export interface EdgeFirewallRule {
  id?: string;
  name: string;
  description?: string;
  sourceFirewallGroups?: EntityRef[] | null;
  destinationFirewallGroups?: EntityRef[] | null;
  applicationPortProfiles?: EntityRef[] | null;
  ipProtocol?: FirewallIpProtocol;
  /** Deprecated in 35.2; prefer actionValue. */
  action?: 'ALLOW' | 'DROP';
  actionValue?: 'ALLOW' | 'DROP' | 'REJECT';
  direction?: FirewallDirection;
  logging?: boolean;
  networkContextProfiles?: EntityRef[] | null;
  enabled?: boolean;
  version?: { version: number };
  comments?: string;
  /** API 37.1+: limits the rule to one service interface. */
  appliedTo?: EntityRef | null;
}

export interface EdgeFirewallRules {
  status?: NetworkingObjectStatus;
  systemRules?: EdgeFirewallRule[];
  userDefinedRules?: EdgeFirewallRule[];
  defaultRules?: EdgeFirewallRule[];
}

export type FirewallGroupTypeValue = 'IP_SET' | 'STATIC_MEMBERS' | 'VM_CRITERIA' | 'SECURITY_GROUP';

export interface FirewallGroup {
  id?: string;
  name: string;
  description?: string;
  status?: NetworkingObjectStatus;
  typeValue?: FirewallGroupTypeValue;
  ipAddresses?: string[];
  members?: EntityRef[];
  ownerRef?: EntityRef;
  orgRef?: EntityRef;
}

export interface OrgVdcNetwork {
  id?: string;
  name: string;
  description?: string;
  connection?: { routerRef?: EntityRef; connectionTypeValue?: 'INTERNAL' | 'DISTRIBUTED' | 'SUBINTERFACE' | 'NON_DISTRIBUTED'; connectionType?: string } | null;
  orgRef?: EntityRef;
}

export interface ApplicationPortProfile {
  id?: string;
  name: string;
  description?: string;
  scope?: 'SYSTEM' | 'PROVIDER' | 'TENANT';
  applicationPorts?: { name?: string; protocol?: 'ICMPv4' | 'ICMPv6' | 'TCP' | 'UDP'; destinationPorts?: string[] }[];
  usableForNAT?: boolean;
  status?: NetworkingObjectStatus;
  orgRef?: EntityRef;
}

export interface StaticRouteNextHop {
  ipAddress: string;
  /** 1..255; VCD defaults it to 1. */
  adminDistance: number;
  /** The org VDC network or segment-backed external network where the next hop is reachable. */
  scope?: { id: string; name?: string; scopeType?: 'NETWORK' | 'SYSTEM_OWNED' } | null;
}

export interface EdgeStaticRoute {
  /** Not a URN; required on update. */
  id?: string;
  name: string;
  description?: string;
  networkCidr: string;
  nextHops: StaticRouteNextHop[];
  systemOwned?: boolean;
  /** The spec says { version }; some VCD builds and govcd use a bare string. Read with routeVersion(). */
  version?: { version: number } | string | number;
}
