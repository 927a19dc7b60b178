// Builds the VCD state from a fixture. Ids derive from names, so a restarted simulator with the
// same fixture serves the same URNs (examples and docs can quote them).
import { createHash, randomUUID } from 'node:crypto';
import type { Fixture } from '../fixtures/fixture.ts';
import type { VcdContext } from './context.ts';
import { addEdge, newEdge } from './routes-edge.ts';
import { newIpSpace, parseIpSpace } from './ipspace-model.ts';
import type { ExternalNetworkRec, IpSpaceUplinkRec, OrgVdcNetworkRec, PortProfileRec } from './state.ts';
import { urn } from './state.ts';
import { parseRule } from './firewall-model.ts';

export function stableUuid(kind: string, name: string): string {
  const h = createHash('sha256').update(`${kind}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const SYSTEM_PROFILES: Array<[string, string, string[]]> = [
  ['HTTP', 'TCP', ['80']],
  ['HTTPS', 'TCP', ['443']],
  ['SSH', 'TCP', ['22']],
  ['DNS-UDP', 'UDP', ['53']],
  ['DNS', 'TCP', ['53']],
  ['NTP', 'UDP', ['123']],
  ['ICMP ALL', 'ICMPv4', []],
];

export function seedVcd(ctx: VcdContext, f: Fixture): void {
  const { state, auth } = ctx;
  const providerOrg = urn('org', stableUuid('org', f.provider.org));
  state.addOrg({ id: providerOrg, name: f.provider.org, displayName: f.provider.org, description: 'Provider', provider: true });
  auth.addUser({
    id: urn('user', stableUuid('user', `${f.provider.org}/${f.provider.username}`)),
    username: f.provider.username,
    password: f.provider.password,
    apiToken: f.provider.apiToken,
    orgId: providerOrg,
    orgName: f.provider.org,
    provider: true,
  });

  const orgIds = new Map<string, string>();
  const vdcIds = new Map<string, string>();
  for (const o of f.orgs) {
    const id = urn('org', stableUuid('org', o.name));
    orgIds.set(o.name, id);
    state.addOrg({ id, name: o.name, displayName: o.displayName ?? o.name, description: '', provider: false });
    for (const v of o.vdcs) {
      const vid = urn('vdc', stableUuid('vdc', v));
      vdcIds.set(v, vid);
      state.vdcs.set(vid, { id: vid, name: v, orgId: id });
    }
    for (const u of o.users) {
      auth.addUser({
        id: urn('user', stableUuid('user', `${o.name}/${u.username}`)),
        username: u.username,
        password: u.password,
        apiToken: u.apiToken,
        orgId: id,
        orgName: o.name,
        provider: false,
      });
    }
  }

  const netIds = new Map<string, string>();
  for (const n of f.externalNetworks) {
    const rec: ExternalNetworkRec = {
      id: urn('network', stableUuid('network', n.name)),
      name: n.name,
      description: '',
      kind: n.kind,
      usingIpSpace: n.kind === 'TIER0' && n.usingIpSpace === true,
      backingId: n.kind === 'TIER0' ? (n.nsxTier0 ?? n.name) : (n.nsxSegment ?? n.name),
      ...(n.kind === 'SEGMENT' && n.vlan ? { vlan: true } : {}),
      subnets: (n.subnets ?? []).map((s) => ({ gateway: s.gateway, prefixLength: s.prefixLength, ranges: s.ranges ?? [] })),
    };
    netIds.set(n.name, rec.id);
    state.externalNetworks.set(rec.id, rec);
    if (rec.kind === 'TIER0') ctx.hooks.providerGatewayCreated?.(rec);
  }

  for (const s of f.ipSpaces) {
    const body = {
      name: s.name,
      type: s.type,
      orgRef: s.org ? { id: orgIds.get(s.org) } : undefined,
      ipSpaceInternalScope: s.internalScope,
      ipSpaceExternalScope: s.externalScope,
      routeAdvertisementEnabled: s.routeAdvertisementEnabled ?? false,
      ipSpaceRanges: {
        ipRanges: (s.ranges ?? []).map((r) => ({ startIpAddress: r.start, endIpAddress: r.end })),
        defaultFloatingIpQuota: s.defaultFloatingIpQuota,
      },
      ipSpacePrefixes: (s.prefixes ?? []).map((p) => ({ ipPrefixSequence: [p], defaultQuotaForPrefixLength: s.defaultPrefixQuota })),
    };
    const space = newIpSpace(urn('ipSpace', stableUuid('ipSpace', s.name)), parseIpSpace(state, body));
    state.ipSpaces.set(space.id, space);
    for (const u of s.uplinks ?? []) {
      const rec: IpSpaceUplinkRec = {
        id: urn('ipSpaceUplink', stableUuid('ipSpaceUplink', u.name)),
        name: u.name,
        description: '',
        externalNetworkId: netIds.get(u.externalNetwork) as string,
        ipSpaceId: space.id,
      };
      state.ipSpaceUplinks.set(rec.id, rec);
    }
  }

  for (const e of f.edges) {
    const edge = newEdge({
      id: urn('gateway', stableUuid('gateway', e.name)),
      name: e.name,
      description: '',
      orgId: orgIds.get(e.org) as string,
      vdcId: vdcIds.get(e.vdc) as string,
      uplinks: e.uplinks.map((u) => ({
        networkId: netIds.get(u.externalNetwork) as string,
        connected: true,
        subnets: (u.subnets ?? []).map((s) => {
          const sub: { gateway: string; prefixLength: number; ranges: Array<{ start: string; end: string }>; primaryIp?: string } = {
            gateway: s.gateway,
            prefixLength: s.prefixLength,
            ranges: s.ranges ?? (s.primaryIp ? [{ start: s.primaryIp, end: s.primaryIp }] : []),
          };
          if (s.primaryIp) sub.primaryIp = s.primaryIp;
          return sub;
        }),
      })),
      distributedRoutingEnabled: false,
      nonDistributedRoutingEnabled: e.nonDistributedRoutingEnabled ?? false,
      backingId: stableUuid('tier1', e.name),
    });
    edge.systemRules = (e.systemRules ?? []).map((r, i) => ({
      id: randomUUID(),
      version: 0,
      fields: parseRule(state, edge, r, '39.0', `edges.${e.name}.systemRules[${i}]`),
    }));
    addEdge(ctx, edge);
  }

  for (const n of f.orgVdcNetworks ?? []) {
    const edgeId = n.edge ? urn('gateway', stableUuid('gateway', n.edge)) : undefined;
    const rec: OrgVdcNetworkRec = {
      id: urn('network', stableUuid('orgVdcNetwork', `${n.org}/${n.name}`)),
      name: n.name,
      description: '',
      orgId: orgIds.get(n.org) as string,
      vdcId: vdcIds.get(n.vdc) as string,
      connectionTypeValue: (edgeId ? (n.connection ?? 'DISTRIBUTED') : 'ISOLATED') as OrgVdcNetworkRec['connectionTypeValue'],
      gateway: n.gateway,
      prefixLength: n.prefixLength,
    };
    if (edgeId) rec.edgeId = edgeId;
    state.orgVdcNetworks.set(rec.id, rec);
  }

  for (const [name, protocol, ports] of SYSTEM_PROFILES) {
    const p: PortProfileRec = {
      id: urn('applicationPortProfile', stableUuid('applicationPortProfile', name)),
      name,
      description: name,
      scope: 'SYSTEM',
      applicationPorts: [{ protocol, destinationPorts: ports }],
    };
    state.portProfiles.set(p.id, p);
  }
}
