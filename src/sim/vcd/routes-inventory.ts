// Orgs, VDCs, external networks (provider gateways and imported segments) and org VDC networks:
// what the IP Space and edge routes hang off, mostly read-only here.
import type { Route } from '../core/types.ts';
import { type Call, type VcdContext, ok } from './context.ts';
import { badRequest, forbiddenUnknown } from './errors.ts';
import { parseCidr, parseIPv4 } from './ip.ts';
import { pagedResponse } from './paging.ts';
import type { ExternalNetworkRec, OrgRec, OrgVdcNetworkRec, SubnetRec, VcdState } from './state.ts';
import { urn } from './state.ts';
import { gate } from './version.ts';

const API = '/cloudapi/1.0.0';

export function renderSubnet(s: SubnetRec): Record<string, unknown> {
  const total = s.totalIpCount ?? s.ranges.reduce((n, r) => n + ((parseIPv4(r.end) ?? 0) - (parseIPv4(r.start) ?? 0) + 1), 0);
  return {
    gateway: s.gateway,
    prefixLength: s.prefixLength,
    ipRanges: { values: s.ranges.map((r) => ({ startAddress: r.start, endAddress: r.end })) },
    enabled: true,
    totalIpCount: total,
    usedIpCount: 0,
  };
}

export function renderOrg(state: VcdState, o: OrgRec): Record<string, unknown> {
  return {
    id: o.id,
    name: o.name,
    displayName: o.displayName,
    description: o.description,
    isEnabled: true,
    orgVdcCount: [...state.vdcs.values()].filter((v) => v.orgId === o.id).length,
    catalogCount: 0,
    vappCount: 0,
    runningVMCount: 0,
    userCount: 1,
    diskCount: 0,
    canPublish: o.provider,
  };
}

export function renderExternalNetwork(n: ExternalNetworkRec, version: string): Record<string, unknown> {
  const segment = n.kind === 'SEGMENT';
  return gate(
    'ExternalNetwork',
    {
      id: n.id,
      name: n.name,
      description: n.description,
      subnets: { values: n.subnets.map(renderSubnet) },
      networkBackings: {
        values: [
          gate(
            'ExternalNetworkBacking',
            {
              backingId: n.backingId,
              backingType: segment ? 'UNKNOWN' : 'NSXT_TIER0',
              backingTypeValue: segment ? 'IMPORTED_T_LOGICAL_SWITCH' : 'NSXT_TIER0',
              networkProvider: { name: 'nsx-sim', id: 'urn:vcloud:nsxtmanager:00000000-0000-0000-0000-000000000001' },
              name: n.name,
              isNsxTVlanSegment: n.vlan === true,
            },
            version,
          ),
        ],
      },
      totalIpCount: n.subnets.reduce((t, s) => t + (renderSubnet(s)['totalIpCount'] as number), 0),
      usedIpCount: 0,
      usingIpSpace: n.usingIpSpace,
      status: 'REALIZED',
    },
    version,
  );
}

export function renderOrgVdcNetwork(state: VcdState, n: OrgVdcNetworkRec, version: string): Record<string, unknown> {
  const edge = n.edgeId ? state.edges.get(n.edgeId) : undefined;
  const legacyType = n.connectionTypeValue === 'NON_DISTRIBUTED' || n.connectionTypeValue === 'ISOLATED' ? 'INTERNAL' : n.connectionTypeValue;
  const body: Record<string, unknown> = {
    id: n.id,
    name: n.name,
    description: n.description,
    subnets: { values: [{ gateway: n.gateway, prefixLength: n.prefixLength, ipRanges: { values: [] }, enabled: true }] },
    backingNetworkType: 'NSXT_FLEXIBLE_SEGMENT',
    networkType: edge ? 'NAT_ROUTED' : 'ISOLATED',
    orgVdc: state.ref('vdc', n.vdcId),
    ownerRef: state.ref('vdc', n.vdcId),
    orgVdcIsNsxTBacked: true,
    orgRef: state.ref('org', n.orgId),
    isDefaultNetwork: false,
    shared: false,
    status: 'REALIZED',
  };
  if (edge) {
    body['connection'] = gate(
      'RouterConnection',
      { routerRef: { id: edge.id, name: edge.name }, connectionType: legacyType, connectionTypeValue: n.connectionTypeValue, connected: true },
      version,
    );
  }
  return gate('VdcNetwork', body, version);
}

export function inventoryRoutes(ctx: VcdContext): Route[] {
  const { state } = ctx;
  const visibleOrg = (call: Call, id: string): boolean => call.caller.provider || id === call.caller.orgId;

  const createNetwork = (call: Call) => {
    const b = call.req.body as Record<string, unknown> | undefined;
    if (!b || typeof b !== 'object') throw badRequest('body is required');
    const name = typeof b['name'] === 'string' ? b['name'] : '';
    if (!name) throw badRequest('name is required');
    const ownerId = (b['ownerRef'] as { id?: string } | undefined)?.id ?? (b['orgVdc'] as { id?: string } | undefined)?.id ?? '';
    const vdc = state.vdcs.get(ownerId);
    if (!vdc || !visibleOrg(call, vdc.orgId)) throw forbiddenUnknown(ownerId || '(ownerRef)');
    const subnet = ((b['subnets'] as { values?: unknown[] } | undefined)?.values?.[0] ?? {}) as Record<string, unknown>;
    const gateway = typeof subnet['gateway'] === 'string' ? subnet['gateway'] : '';
    const prefixLength = typeof subnet['prefixLength'] === 'number' ? subnet['prefixLength'] : -1;
    if (!parseCidr(`${gateway}/${prefixLength}`)) throw badRequest('subnets.values[0] needs a gateway and prefixLength');
    const conn = b['connection'] as { routerRef?: { id?: string }; connectionTypeValue?: string; connectionType?: string } | undefined;
    let edgeId: string | undefined;
    let type: OrgVdcNetworkRec['connectionTypeValue'] = 'ISOLATED';
    if (conn?.routerRef?.id) {
      const edge = ctx.edge(call, conn.routerRef.id);
      edgeId = edge.id;
      const v = conn.connectionTypeValue ?? conn.connectionType ?? 'INTERNAL';
      if (!['INTERNAL', 'DISTRIBUTED', 'SUBINTERFACE', 'NON_DISTRIBUTED'].includes(v)) throw badRequest(`connectionTypeValue ${v} is not valid`);
      if (v === 'NON_DISTRIBUTED' && !edge.nonDistributedRoutingEnabled) {
        throw badRequest(`Edge gateway ${edge.name} does not have non-distributed routing enabled.`);
      }
      type = v as OrgVdcNetworkRec['connectionTypeValue'];
    }
    const rec: OrgVdcNetworkRec = {
      id: urn('network'),
      name,
      description: typeof b['description'] === 'string' ? b['description'] : '',
      orgId: vdc.orgId,
      vdcId: vdc.id,
      connectionTypeValue: type,
      gateway,
      prefixLength,
    };
    if (edgeId) rec.edgeId = edgeId;
    return ctx.accepted(call, {
      operation: 'NETWORK_CREATE',
      operationName: 'Creating network',
      owner: { id: rec.id, name: rec.name, type: 'application/json' },
      work: () => void state.orgVdcNetworks.set(rec.id, rec),
    });
  };

  return [
    {
      method: 'GET',
      pattern: `${API}/orgs`,
      handler: ctx.api('33.0', (call) =>
        pagedResponse(
          call.req,
          [...state.orgs.values()].filter((o) => visibleOrg(call, o.id)).map((o) => renderOrg(state, o)),
          { model: 'Org', base: call.base },
        ),
      ),
    },
    {
      method: 'GET',
      pattern: `${API}/orgs/{id}`,
      handler: ctx.api('33.0', (call) => {
        const o = state.orgs.get(call.req.params['id'] ?? '');
        if (!o || !visibleOrg(call, o.id)) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok(renderOrg(state, o));
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/vdcs`,
      handler: ctx.api('33.0', (call) =>
        pagedResponse(
          call.req,
          [...state.vdcs.values()]
            .filter((v) => visibleOrg(call, v.orgId))
            .map((v) => ({ id: v.id, name: v.name, description: '', allocationType: 'Flex', org: state.ref('org', v.orgId) })),
          { model: 'OrgVdc', base: call.base },
        ),
      ),
    },
    {
      method: 'GET',
      pattern: `${API}/vdcs/{id}`,
      handler: ctx.api('33.0', (call) => {
        const v = state.vdcs.get(call.req.params['id'] ?? '');
        if (!v || !visibleOrg(call, v.orgId)) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok({ id: v.id, name: v.name, description: '', allocationType: 'Flex', org: state.ref('org', v.orgId) });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/externalNetworks`,
      handler: ctx.api('33.0', (call) => {
        ctx.requireProvider(call);
        return pagedResponse(
          call.req,
          [...state.externalNetworks.values()].map((n) => renderExternalNetwork(n, call.version)),
          { model: 'ExternalNetwork', base: call.base },
        );
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/externalNetworks/{id}`,
      handler: ctx.api('33.0', (call) => {
        const n = state.externalNetworks.get(call.req.params['id'] ?? '');
        if (!n || !call.caller.provider) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok(renderExternalNetwork(n, call.version));
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/orgVdcNetworks`,
      handler: ctx.api('33.0', (call) =>
        pagedResponse(
          call.req,
          [...state.orgVdcNetworks.values()].filter((n) => visibleOrg(call, n.orgId)).map((n) => renderOrgVdcNetwork(state, n, call.version)),
          { model: 'VdcNetwork', base: call.base },
        ),
      ),
    },
    {
      method: 'GET',
      pattern: `${API}/orgVdcNetworks/{id}`,
      handler: ctx.api('33.0', (call) => {
        const n = state.orgVdcNetworks.get(call.req.params['id'] ?? '');
        if (!n || !visibleOrg(call, n.orgId)) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ok(renderOrgVdcNetwork(state, n, call.version));
      }),
    },
    { method: 'POST', pattern: `${API}/orgVdcNetworks`, handler: ctx.api('33.0', createNetwork) },
    {
      method: 'DELETE',
      pattern: `${API}/orgVdcNetworks/{id}`,
      handler: ctx.api('33.0', (call) => {
        const n = state.orgVdcNetworks.get(call.req.params['id'] ?? '');
        if (!n || !visibleOrg(call, n.orgId)) throw forbiddenUnknown(call.req.params['id'] ?? '');
        return ctx.accepted(call, {
          operation: 'NETWORK_DELETE',
          operationName: 'Deleting network',
          owner: { id: n.id, name: n.name, type: 'application/json' },
          work: () => void state.orgVdcNetworks.delete(n.id),
        });
      }),
    },
  ];
}
