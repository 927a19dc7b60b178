// The admin state dump: every VCD object as plain JSON, never passwords, tokens or sessions.
import type { VcdContext } from './context.ts';
import { formatIPv4 } from './ip.ts';

export interface VcdDump {
  orgs: Array<{ id: string; name: string; provider: boolean }>;
  vdcs: Array<{ id: string; name: string; org: string }>;
  externalNetworks: Array<{ id: string; name: string; kind: string; usingIpSpace: boolean }>;
  edges: Array<{
    id: string;
    name: string;
    org: string;
    /** The NSX Tier-1 id behind the edge (gatewayBacking.backingId). */
    backingId: string;
    uplinks: string[];
    firewallRules: Array<{ id: string; version: number } & Record<string, unknown>>;
    staticRoutes: Array<{ id: string; name: string; networkCidr: string; version: number }>;
  }>;
  orgVdcNetworks: Array<{ id: string; name: string; org: string; edge?: string; connection: string }>;
  ipSpaces: Array<{
    id: string;
    name: string;
    type: string;
    ranges: string[];
    allocations: Array<{ id: string; type: string; value: string; org: string; usageState: string; description: string }>;
  }>;
  ipSpaceUplinks: Array<{ id: string; name: string; externalNetwork: string; ipSpace: string }>;
  orgAssignments: Array<{ id: string; ipSpace: string; org: string; customFloatingIpQuota?: number; customPrefixQuotas?: Record<string, number> }>;
  firewallGroups: Array<{ id: string; name: string; edge: string; ipAddresses: string[]; description: string }>;
  applicationPortProfiles: Array<{ id: string; name: string; scope: string }>;
  tasks: number;
  users: Array<{ org: string; username: string }>;
}

export function dumpVcd(ctx: VcdContext): VcdDump {
  const { state } = ctx;
  const org = (id: string): string => state.orgName(id);
  return {
    orgs: [...state.orgs.values()].map((o) => ({ id: o.id, name: o.name, provider: o.provider })),
    vdcs: [...state.vdcs.values()].map((v) => ({ id: v.id, name: v.name, org: org(v.orgId) })),
    externalNetworks: [...state.externalNetworks.values()].map((n) => ({ id: n.id, name: n.name, kind: n.kind, usingIpSpace: n.usingIpSpace })),
    edges: [...state.edges.values()].map((e) => ({
      id: e.id,
      name: e.name,
      org: org(e.orgId),
      backingId: e.backingId,
      uplinks: e.uplinks.map((u) => state.externalNetworks.get(u.networkId)?.name ?? u.networkId),
      firewallRules: e.rules.map((r) => ({ id: r.id, version: r.version, ...r.fields })),
      staticRoutes: [...e.staticRoutes.values()].map((r) => ({ id: r.id, name: r.name, networkCidr: r.networkCidr, version: r.version })),
    })),
    orgVdcNetworks: [...state.orgVdcNetworks.values()].map((n) => ({
      id: n.id,
      name: n.name,
      org: org(n.orgId),
      ...(n.edgeId ? { edge: state.edges.get(n.edgeId)?.name ?? n.edgeId } : {}),
      connection: n.connectionTypeValue,
    })),
    ipSpaces: [...state.ipSpaces.values()].map((s) => ({
      id: s.id,
      name: s.name,
      type: s.type,
      ranges: s.ranges.map((r) => `${formatIPv4(r.start)}-${formatIPv4(r.end)}`),
      allocations: [...s.allocations.values()].map((a) => ({
        id: a.id,
        type: a.type,
        value: a.value,
        org: org(a.orgId),
        usageState: a.usageState,
        description: a.description,
      })),
    })),
    ipSpaceUplinks: [...state.ipSpaceUplinks.values()].map((u) => ({
      id: u.id,
      name: u.name,
      externalNetwork: state.externalNetworks.get(u.externalNetworkId)?.name ?? u.externalNetworkId,
      ipSpace: state.ipSpaces.get(u.ipSpaceId)?.name ?? u.ipSpaceId,
    })),
    orgAssignments: [...state.orgAssignments.values()].map((a) => ({
      id: a.id,
      ipSpace: state.ipSpaces.get(a.ipSpaceId)?.name ?? a.ipSpaceId,
      org: org(a.orgId),
      ...(a.customFloatingIpQuota !== undefined ? { customFloatingIpQuota: a.customFloatingIpQuota } : {}),
      ...(a.customPrefixQuotas ? { customPrefixQuotas: Object.fromEntries([...a.customPrefixQuotas].map(([k, v]) => [String(k), v])) } : {}),
    })),
    firewallGroups: [...state.firewallGroups.values()].map((g) => ({
      id: g.id,
      name: g.name,
      edge: state.edges.get(g.ownerId)?.name ?? g.ownerId,
      ipAddresses: g.ipAddresses,
      description: g.description,
    })),
    applicationPortProfiles: [...state.portProfiles.values()].map((p) => ({ id: p.id, name: p.name, scope: p.scope })),
    tasks: ctx.tasks.count(),
    users: ctx.auth.users().map((u) => ({ org: u.orgName, username: u.username })),
  };
}
