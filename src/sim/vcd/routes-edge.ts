// Edge gateways and their uplinks (Tier-0 and segment-backed service interfaces), with the edge's
// usedIpAddresses. Firewall and static routes live in their own modules but share the edge lock.
import { randomUUID } from 'node:crypto';
import type { Route } from '../core/types.ts';
import { type Call, type VcdContext, ok } from './context.ts';
import { badRequest, forbiddenUnknown } from './errors.ts';
import { withoutTerms } from './fiql.ts';
import { formatIPv4, parseIPv4 } from './ip.ts';
import { pagedResponse, readFilter } from './paging.ts';
import { ensureAssignments } from './routes-ipspace.ts';
import { renderSubnet } from './routes-inventory.ts';
import type { EdgeRec, EdgeUplinkRec, ExternalNetworkRec, SubnetRec, VcdState } from './state.ts';
import { urn } from './state.ts';
import { gate } from './version.ts';
import { defaultFirewallRule } from './firewall-model.ts';

const API = '/cloudapi/1.0.0';

export function renderEdge(state: VcdState, e: EdgeRec, version: string): Record<string, unknown> {
  // VCD lists uplinks in no fixed order; serving service interfaces first keeps clients honest
  // (they must pick the Tier-0 uplink by backingType, not by position).
  const ordered = [...e.uplinks].sort((a, b) => rank(state, a) - rank(state, b));
  return gate(
    'EdgeGateway',
    {
      status: 'REALIZED',
      id: e.id,
      name: e.name,
      description: e.description,
      edgeGatewayUplinks: ordered.map((u) => {
        const net = state.externalNetworks.get(u.networkId);
        const tier0 = net?.kind === 'TIER0';
        return gate(
          'EdgeGatewayUplink',
          {
            uplinkId: u.networkId,
            uplinkName: net?.name ?? '',
            subnets: {
              values: u.subnets.map((s) => ({ ...renderSubnet(s), ...(s.primaryIp ? { primaryIp: s.primaryIp } : {}), autoAllocateIpRanges: false })),
            },
            connected: u.connected,
            quickAddAllocatedIpCount: 0,
            dedicated: false,
            usingIpSpace: tier0 && net.usingIpSpace,
            vrfLiteBacked: false,
            backingType: tier0 ? 'NSXT_TIER0' : 'IMPORTED_T_LOGICAL_SWITCH',
          },
          version,
        );
      }),
      distributedRoutingEnabled: e.distributedRoutingEnabled,
      nonDistributedRoutingEnabled: e.nonDistributedRoutingEnabled,
      orgVdcNetworkCount: [...state.orgVdcNetworks.values()].filter((n) => n.edgeId === e.id).length,
      gatewayBacking: {
        backingId: e.backingId,
        gatewayType: 'NSXT_BACKED',
        networkProvider: { name: 'nsx-sim', id: 'urn:vcloud:nsxtmanager:00000000-0000-0000-0000-000000000001' },
      },
      orgVdc: state.ref('vdc', e.vdcId),
      ownerRef: state.ref('vdc', e.vdcId),
      orgRef: state.ref('org', e.orgId),
      serviceNetworkDefinition: '192.168.255.225/27',
      distributedRouterUplinkNetworkDefinition: '100.64.0.0/16',
    },
    version,
  );
}

function rank(state: VcdState, u: EdgeUplinkRec): number {
  return state.externalNetworks.get(u.networkId)?.kind === 'TIER0' ? 1 : 0;
}

/** Reads edgeGatewayUplinks: exactly one Tier-0 provider gateway plus any segment-backed networks. */
export function parseUplinks(state: VcdState, raw: unknown, edgeId?: string): EdgeUplinkRec[] {
  if (!Array.isArray(raw) || raw.length === 0) throw badRequest('edgeGatewayUplinks must list at least one uplink');
  const seen = new Set<string>();
  const out = raw.map((u, i): EdgeUplinkRec => {
    const uo = (u ?? {}) as { uplinkId?: unknown; connected?: unknown; subnets?: { values?: unknown } };
    const id = typeof uo.uplinkId === 'string' ? uo.uplinkId : '';
    const net = state.externalNetworks.get(id);
    if (!net) throw badRequest(`edgeGatewayUplinks[${i}].uplinkId ${id || '(missing)'} is not an external network`);
    if (seen.has(id)) throw badRequest(`edgeGatewayUplinks[${i}]: ${net.name} is listed twice`);
    seen.add(id);
    const subnetsIn = Array.isArray(uo.subnets?.values) ? (uo.subnets.values as unknown[]) : [];
    const subnets: SubnetRec[] = subnetsIn.map((s, j) => {
      const so = (s ?? {}) as Record<string, unknown>;
      const gateway = typeof so['gateway'] === 'string' ? so['gateway'] : '';
      const prefixLength = typeof so['prefixLength'] === 'number' ? so['prefixLength'] : -1;
      if (parseIPv4(gateway) === undefined || prefixLength < 1 || prefixLength > 32) {
        throw badRequest(`edgeGatewayUplinks[${i}].subnets.values[${j}] needs gateway and prefixLength`);
      }
      const rec: SubnetRec = { gateway, prefixLength, ranges: [] };
      const ranges = (so['ipRanges'] as { values?: Array<{ startAddress?: string; endAddress?: string }> } | undefined)?.values ?? [];
      rec.ranges = ranges.map((r) => ({ start: r.startAddress ?? '', end: r.endAddress ?? r.startAddress ?? '' }));
      if (typeof so['primaryIp'] === 'string') rec.primaryIp = so['primaryIp'];
      if (so['autoAllocateIpRanges'] === true && net.kind === 'SEGMENT') {
        // VCD picks the ranges: totalIpCount addresses of the network, from the primary IP on.
        const count = typeof so['totalIpCount'] === 'number' ? so['totalIpCount'] : 1;
        rec.ranges = autoRanges(net, rec, count, `edgeGatewayUplinks[${i}].subnets.values[${j}]`);
        rec.primaryIp ??= rec.ranges[0]?.start;
      } else if (typeof so['totalIpCount'] === 'number') rec.totalIpCount = so['totalIpCount'];
      return rec;
    });
    if (net.kind === 'SEGMENT' && subnets.length === 0) throw badRequest(`The segment-backed uplink ${net.name} needs a subnet`);
    return { networkId: id, connected: uo.connected !== false, subnets };
  });
  const tier0 = out.filter((u) => state.externalNetworks.get(u.networkId)?.kind === 'TIER0');
  if (tier0.length !== 1) throw badRequest('An edge gateway needs exactly one Tier-0 provider gateway uplink.');
  for (const u of out) {
    const net = state.externalNetworks.get(u.networkId);
    if (!net?.vlan) continue;
    const other = [...state.edges.values()].find((e) => e.id !== edgeId && e.uplinks.some((x) => x.networkId === net.id));
    if (other)
      throw badRequest(
        `The VLAN-backed segment ${net.name} is already connected to edge gateway ${other.name}; a VLAN segment can be connected to one edge gateway only.`,
      );
  }
  return out;
}

/** `count` consecutive addresses of the network's ranges from the subnet's primary IP (or the first range start). */
function autoRanges(net: ExternalNetworkRec, subnet: SubnetRec, count: number, where: string): SubnetRec['ranges'] {
  const own = net.subnets.find((s) => s.gateway === subnet.gateway && s.prefixLength === subnet.prefixLength);
  if (!own) throw badRequest(`${where}: ${subnet.gateway}/${subnet.prefixLength} is not a subnet of ${net.name}`);
  const start = parseIPv4(subnet.primaryIp ?? own.ranges[0]?.start ?? '');
  if (start === undefined || !Number.isInteger(count) || count < 1) throw badRequest(`${where}: totalIpCount must be at least 1`);
  const end = start + count - 1;
  const inside = own.ranges.some((r) => (parseIPv4(r.start) ?? Infinity) <= start && end <= (parseIPv4(r.end) ?? -1));
  if (!inside) throw badRequest(`${where}: ${count} addresses from ${formatIPv4(start)} are not all in the static pool of ${net.name}`);
  return [{ start: formatIPv4(start), end: formatIPv4(end) }];
}

export function newEdge(fields: Omit<EdgeRec, 'systemRules' | 'rules' | 'defaultRules' | 'staticRoutes'>): EdgeRec {
  return { ...fields, systemRules: [], rules: [], defaultRules: [defaultFirewallRule()], staticRoutes: new Map() };
}

export function edgeRoutes(ctx: VcdContext): Route[] {
  const { state } = ctx;
  const owner = (e: EdgeRec) => ({ id: e.id, name: e.name, type: 'application/json' });

  const create = (call: Call) => {
    ctx.requireProvider(call);
    const b = (call.req.body ?? {}) as Record<string, unknown>;
    const name = typeof b['name'] === 'string' ? b['name'] : '';
    if (!name) throw badRequest('name is required');
    const vdcId = (b['ownerRef'] as { id?: string } | undefined)?.id ?? (b['orgVdc'] as { id?: string } | undefined)?.id ?? '';
    const vdc = state.vdcs.get(vdcId);
    if (!vdc) throw forbiddenUnknown(vdcId || '(ownerRef)');
    for (const e of state.edges.values())
      if (e.vdcId === vdc.id && e.name === name) throw badRequest(`An edge gateway named ${name} already exists in ${vdc.name}.`);
    const uplinks = parseUplinks(state, b['edgeGatewayUplinks']);
    const edge = newEdge({
      id: urn('gateway'),
      name,
      description: typeof b['description'] === 'string' ? b['description'] : '',
      orgId: vdc.orgId,
      vdcId: vdc.id,
      uplinks,
      distributedRoutingEnabled: b['distributedRoutingEnabled'] === true,
      nonDistributedRoutingEnabled: b['nonDistributedRoutingEnabled'] === true,
      // The NSX tier-1 id, as VCD keeps it in gatewayBacking.backingId.
      backingId: randomUUID(),
    });
    return ctx.accepted(call, {
      operation: 'EDGE_GATEWAY_CREATE',
      operationName: 'Creating edge gateway',
      owner: owner(edge),
      work: () => addEdge(ctx, edge),
    });
  };

  const update = (call: Call) => {
    const edge = ctx.edge(call, call.req.params['id'] ?? '');
    const b = (call.req.body ?? {}) as Record<string, unknown>;
    const name = typeof b['name'] === 'string' && b['name'] !== '' ? b['name'] : edge.name;
    const uplinks = b['edgeGatewayUplinks'] === undefined ? edge.uplinks : parseUplinks(state, b['edgeGatewayUplinks'], edge.id);
    const oldT0 = state.tier0Uplink(edge)?.networkId;
    const newT0 = uplinks.find((u) => state.externalNetworks.get(u.networkId)?.kind === 'TIER0')?.networkId;
    if (oldT0 !== newT0) throw badRequest('The Tier-0 provider gateway of an edge gateway cannot change.');
    if (!call.caller.provider && uplinks.map((u) => u.networkId).join() !== edge.uplinks.map((u) => u.networkId).join()) {
      throw forbiddenUnknown(edge.id);
    }
    return ctx.accepted(call, {
      operation: 'EDGE_GATEWAY_UPDATE',
      operationName: 'Updating edge gateway',
      owner: owner(edge),
      lock: { edge },
      work: () => {
        edge.name = name;
        if (typeof b['description'] === 'string') edge.description = b['description'];
        edge.uplinks = uplinks;
        if (typeof b['nonDistributedRoutingEnabled'] === 'boolean') edge.nonDistributedRoutingEnabled = b['nonDistributedRoutingEnabled'];
        if (typeof b['distributedRoutingEnabled'] === 'boolean') edge.distributedRoutingEnabled = b['distributedRoutingEnabled'];
        notifyEdgeSaved(ctx, edge);
      },
    });
  };

  const remove = (call: Call) => {
    const edge = ctx.edge(call, call.req.params['id'] ?? '');
    ctx.requireProvider(call);
    const networks = [...state.orgVdcNetworks.values()].filter((n) => n.edgeId === edge.id);
    if (networks.length > 0 && call.req.query.get('force') !== 'true') {
      throw badRequest(`The edge gateway ${edge.name} still has ${networks.length} connected network(s); delete them or use force=true.`);
    }
    return ctx.accepted(call, {
      operation: 'EDGE_GATEWAY_DELETE',
      operationName: 'Deleting edge gateway',
      owner: owner(edge),
      lock: { edge },
      work: () => {
        for (const n of networks) state.orgVdcNetworks.delete(n.id);
        state.edges.delete(edge.id);
        ctx.hooks.edgeDeleted?.(edge);
      },
    });
  };

  return [
    {
      method: 'GET',
      pattern: `${API}/edgeGateways`,
      handler: ctx.api('34.0', (call) => {
        const filter = withoutTerms(readFilter(call.req), ['_context']);
        const items = [...state.edges.values()]
          .filter((e) => call.caller.provider || e.orgId === call.caller.orgId)
          .map((e) => renderEdge(state, e, call.version));
        return pagedResponse(call.req, items, { model: 'EdgeGateway', base: call.base, filter });
      }),
    },
    { method: 'POST', pattern: `${API}/edgeGateways`, handler: ctx.api('34.0', create) },
    {
      method: 'GET',
      pattern: `${API}/edgeGateways/{id}`,
      handler: ctx.api('34.0', (call) => ok(renderEdge(state, ctx.edge(call, call.req.params['id'] ?? ''), call.version))),
    },
    { method: 'PUT', pattern: `${API}/edgeGateways/{id}`, handler: ctx.api('34.0', update) },
    { method: 'DELETE', pattern: `${API}/edgeGateways/{id}`, handler: ctx.api('34.0', remove) },
    {
      method: 'GET',
      pattern: `${API}/edgeGateways/{id}/usedIpAddresses`,
      handler: ctx.api('34.0', (call) => {
        const edge = ctx.edge(call, call.req.params['id'] ?? '');
        const items: object[] = [];
        for (const u of edge.uplinks) {
          for (const s of u.subnets)
            if (s.primaryIp) items.push({ networkRef: state.ref('extnet', u.networkId), ipAddress: s.primaryIp, category: 'PRIMARY_IP' });
        }
        for (const space of state.ipSpacesOfEdge(edge)) {
          for (const a of space.allocations.values()) {
            if (a.type === 'FLOATING_IP' && a.usedByRef?.id === edge.id)
              items.push({ networkRef: state.ref('extnet', state.tier0Uplink(edge)?.networkId), ipAddress: a.value, category: 'SNAT' });
          }
        }
        return pagedResponse(call.req, items, { model: 'GatewayUsedIpAddress', base: call.base });
      }),
    },
  ];
}

/** Registers an edge with the implicit work VCD does: org assignments and the NSX tier-1. */
export function addEdge(ctx: VcdContext, edge: EdgeRec): void {
  ctx.state.edges.set(edge.id, edge);
  const t0 = ctx.state.tier0Uplink(edge);
  if (t0) ensureAssignments(ctx.state, edge.orgId, t0.networkId);
  notifyEdgeSaved(ctx, edge);
}

function notifyEdgeSaved(ctx: VcdContext, edge: EdgeRec): void {
  const networks = edge.uplinks.map((u) => ctx.state.externalNetworks.get(u.networkId)).filter((n) => n !== undefined);
  ctx.hooks.edgeSaved?.(edge, networks);
}
