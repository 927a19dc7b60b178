// The simulated VCD's objects, held in maps keyed by URN with the indexes the hot paths need
// (allocations by IP Space and by value, per-org usage counters), so a request costs O(1) or a
// scan of one IP Space, never of everything.
import { randomUUID } from 'node:crypto';

export interface OrgRec {
  id: string;
  name: string;
  displayName: string;
  description: string;
  provider: boolean;
}

export interface VdcRec {
  id: string;
  name: string;
  orgId: string;
}

export interface RangeSpec {
  start: string;
  end: string;
}

export interface SubnetRec {
  gateway: string;
  prefixLength: number;
  ranges: RangeSpec[];
  primaryIp?: string;
  totalIpCount?: number;
}

export interface ExternalNetworkRec {
  id: string;
  name: string;
  description: string;
  /** TIER0: a provider gateway; SEGMENT: an imported NSX segment (service interface uplink). */
  kind: 'TIER0' | 'SEGMENT';
  usingIpSpace: boolean;
  backingId: string;
  /** A VLAN-backed segment: VCD attaches it to one edge gateway at most. */
  vlan?: boolean;
  subnets: SubnetRec[];
}

export interface EdgeUplinkRec {
  networkId: string;
  connected: boolean;
  subnets: SubnetRec[];
}

export interface FirewallRuleRec {
  id: string;
  version: number;
  /** The rule's writable fields as last written (spec field names). */
  fields: Record<string, unknown>;
}

export interface StaticRouteRec {
  id: string;
  version: number;
  name: string;
  description: string;
  networkCidr: string;
  nextHops: Array<Record<string, unknown>>;
}

export interface EdgeRec {
  id: string;
  name: string;
  description: string;
  orgId: string;
  vdcId: string;
  uplinks: EdgeUplinkRec[];
  distributedRoutingEnabled: boolean;
  nonDistributedRoutingEnabled: boolean;
  backingId: string;
  systemRules: FirewallRuleRec[];
  rules: FirewallRuleRec[];
  defaultRules: FirewallRuleRec[];
  staticRoutes: Map<string, StaticRouteRec>;
  /** The task that holds the edge's write lock, and its operation (for BUSY_ENTITY). */
  busy?: { taskUuid: string; operation: string };
}

export interface OrgVdcNetworkRec {
  id: string;
  name: string;
  description: string;
  orgId: string;
  vdcId: string;
  edgeId?: string;
  connectionTypeValue: 'INTERNAL' | 'DISTRIBUTED' | 'SUBINTERFACE' | 'NON_DISTRIBUTED' | 'ISOLATED';
  gateway: string;
  prefixLength: number;
}

export interface IpRangeRec {
  id: string;
  start: number;
  end: number;
  /** Next address to try, so allocation is amortised O(1) rather than a scan from the start. */
  cursor: number;
}

export interface PrefixSeqRec {
  id: string;
  start: number;
  prefixLength: number;
  count: number;
  cursor: number;
}

export type AllocationType = 'FLOATING_IP' | 'IP_PREFIX';
export type UsageState = 'UNUSED' | 'USED' | 'USED_MANUAL';

export interface AllocationRec {
  id: string;
  ipSpaceId: string;
  type: AllocationType;
  value: string;
  /** First address as a number (range/prefix bookkeeping). */
  first: number;
  prefixLength?: number;
  orgId: string;
  usageState: UsageState;
  description: string;
  allocationDate: string;
  usedByRef?: { id: string; name: string };
}

export interface OrgUsage {
  floating: number;
  prefixes: Map<number, number>;
}

export interface IpSpaceRec {
  id: string;
  name: string;
  description: string;
  type: 'PUBLIC' | 'PRIVATE' | 'SHARED_SERVICES';
  orgId?: string;
  internalScope: string[];
  externalScope?: string;
  routeAdvertisementEnabled: boolean;
  /** API 38.0+: which default edge services VCD creates for edges using this space. */
  defaultGatewayServiceConfig?: GatewayServiceConfig;
  ranges: IpRangeRec[];
  defaultFloatingIpQuota: number;
  /** Prefix sequences, grouped as the API groups them (one group per prefix length). */
  prefixGroups: Array<{ sequences: PrefixSeqRec[]; defaultQuota: number }>;
  allocations: Map<string, AllocationRec>;
  /** Allocated values (IPs and CIDRs) → allocation; prevents double allocation in O(1). */
  byValue: Map<string, AllocationRec>;
  usage: Map<string, OrgUsage>;
  busy?: { taskUuid: string; operation: string };
}

export interface GatewayServiceConfig {
  enableDefaultFirewallRuleCreation: boolean;
  enableDefaultNoSnatRuleCreation: boolean;
  enableDefaultSnatRuleCreation: boolean;
}

export interface IpSpaceUplinkRec {
  id: string;
  name: string;
  description: string;
  externalNetworkId: string;
  ipSpaceId: string;
  /** API 38.0+: the Tier-0 router interfaces the uplink is associated with. */
  interfaces?: UplinkInterfaceRec[];
}

export interface UplinkInterfaceRec {
  id: string;
  name?: string;
  interfaceType?: string;
}

export interface OrgAssignmentRec {
  id: string;
  ipSpaceId: string;
  orgId: string;
  customFloatingIpQuota?: number;
  customPrefixQuotas?: Map<number, number>;
}

export interface FirewallGroupRec {
  id: string;
  name: string;
  description: string;
  typeValue: string;
  ipAddresses: string[];
  ownerId: string;
  orgId: string;
}

export interface PortProfileRec {
  id: string;
  name: string;
  description: string;
  scope: 'SYSTEM' | 'PROVIDER' | 'TENANT';
  applicationPorts: Array<{ protocol: string; destinationPorts: string[]; name?: string }>;
  orgId?: string;
}

export function urn(kind: string, uuid: string = randomUUID()): string {
  return `urn:vcloud:${kind}:${uuid}`;
}

export function uuidOf(id: string): string {
  return id.split(':').pop() as string;
}

export class VcdState {
  readonly orgs = new Map<string, OrgRec>();
  readonly vdcs = new Map<string, VdcRec>();
  readonly externalNetworks = new Map<string, ExternalNetworkRec>();
  readonly edges = new Map<string, EdgeRec>();
  readonly orgVdcNetworks = new Map<string, OrgVdcNetworkRec>();
  readonly ipSpaces = new Map<string, IpSpaceRec>();
  readonly ipSpaceUplinks = new Map<string, IpSpaceUplinkRec>();
  readonly orgAssignments = new Map<string, OrgAssignmentRec>();
  readonly firewallGroups = new Map<string, FirewallGroupRec>();
  readonly portProfiles = new Map<string, PortProfileRec>();
  /** Org UUID → org URN, for the tenant-context header (which carries the bare UUID). */
  readonly orgByUuid = new Map<string, string>();

  /** Empties every map in place (route handlers keep their reference to this object). */
  clear(): void {
    for (const m of [
      this.orgs,
      this.vdcs,
      this.externalNetworks,
      this.edges,
      this.orgVdcNetworks,
      this.ipSpaces,
      this.ipSpaceUplinks,
      this.orgAssignments,
      this.firewallGroups,
      this.portProfiles,
      this.orgByUuid,
    ]) {
      (m as Map<string, unknown>).clear();
    }
  }

  addOrg(o: OrgRec): void {
    this.orgs.set(o.id, o);
    this.orgByUuid.set(uuidOf(o.id), o.id);
  }

  orgName(id: string): string {
    return this.orgs.get(id)?.name ?? '';
  }

  ref(kind: 'org' | 'vdc' | 'edge' | 'extnet' | 'ipSpace', id: string | undefined): { id: string; name: string } | undefined {
    if (!id) return undefined;
    const map = { org: this.orgs, vdc: this.vdcs, edge: this.edges, extnet: this.externalNetworks, ipSpace: this.ipSpaces }[kind];
    const rec = map.get(id);
    return rec ? { id, name: rec.name } : undefined;
  }

  assignmentFor(ipSpaceId: string, orgId: string): OrgAssignmentRec | undefined {
    for (const a of this.orgAssignments.values()) if (a.ipSpaceId === ipSpaceId && a.orgId === orgId) return a;
    return undefined;
  }

  uplinksOfNetwork(networkId: string): IpSpaceUplinkRec[] {
    return [...this.ipSpaceUplinks.values()].filter((u) => u.externalNetworkId === networkId);
  }

  edgesOfOrg(orgId: string): EdgeRec[] {
    return [...this.edges.values()].filter((e) => e.orgId === orgId);
  }

  /** The Tier-0 provider gateway uplink of an edge (VCD may list uplinks in any order). */
  tier0Uplink(edge: EdgeRec): EdgeUplinkRec | undefined {
    return edge.uplinks.find((u) => this.externalNetworks.get(u.networkId)?.kind === 'TIER0');
  }

  /** IP Spaces reachable from an edge: those uplinked to its Tier-0 provider gateway. */
  ipSpacesOfEdge(edge: EdgeRec): IpSpaceRec[] {
    const t0 = this.tier0Uplink(edge);
    if (!t0) return [];
    const out: IpSpaceRec[] = [];
    for (const u of this.uplinksOfNetwork(t0.networkId)) {
      const s = this.ipSpaces.get(u.ipSpaceId);
      if (s && (s.type !== 'PRIVATE' || s.orgId === edge.orgId)) out.push(s);
    }
    return out;
  }
}
