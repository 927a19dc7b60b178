// Firewall groups (IP sets) and application port profiles: the objects firewall rules reference.
import type { Route } from '../core/types.ts';
import { type Call, type VcdContext, ok } from './context.ts';
import { VcdError, badRequest, forbiddenUnknown } from './errors.ts';
import { requiredTerm, withoutTerms } from './fiql.ts';
import { compareIP, parseCIDR, parseIP } from '../../api/ip.ts';
import { pagedResponse, readFilter } from './paging.ts';
import type { FirewallGroupRec, PortProfileRec } from './state.ts';
import { urn } from './state.ts';

const API = '/cloudapi/1.0.0';

/** An IPv4 or IPv6 address, CIDR or range (first-last, one family, in order), as VCD's IP sets take them. */
function validAddress(s: string): boolean {
  if (s.includes('-')) {
    const [a, b] = s.split('-').map((p) => parseIP(p));
    return s.split('-').length === 2 && !!a && !!b && a.family === b.family && compareIP(a, b) <= 0;
  }
  return s.includes('/') ? parseCIDR(s) !== undefined : parseIP(s) !== undefined;
}

export function groupRoutes(ctx: VcdContext): Route[] {
  const { state } = ctx;

  const summary = (g: FirewallGroupRec): Record<string, unknown> => ({
    orgRef: state.ref('org', g.orgId),
    edgeGatewayRef: state.ref('edge', g.ownerId),
    ownerRef: state.ref('edge', g.ownerId),
    status: 'REALIZED',
    id: g.id,
    name: g.name,
    description: g.description,
    type: 'IP_SET',
    typeValue: g.typeValue,
  });
  const details = (g: FirewallGroupRec): Record<string, unknown> => ({ ...summary(g), ipAddresses: g.ipAddresses, members: [], vmCriteria: [] });

  const groupOf = (call: Call, id: string): FirewallGroupRec => {
    const g = state.firewallGroups.get(id);
    if (!g || (!call.caller.provider && g.orgId !== call.caller.orgId)) throw forbiddenUnknown(id);
    return g;
  };

  const parseGroup = (call: Call, raw: unknown, existing?: FirewallGroupRec): Omit<FirewallGroupRec, 'id'> => {
    const b = (raw ?? {}) as Record<string, unknown>;
    if (typeof b['name'] !== 'string' || b['name'] === '') throw badRequest('name is required');
    const typeValue = (b['typeValue'] ?? b['type'] ?? 'IP_SET') as string;
    if (typeValue !== 'IP_SET') throw badRequest(`typeValue ${typeValue} is not supported by the simulator (only IP_SET)`);
    const ownerId = (b['ownerRef'] as { id?: string } | undefined)?.id ?? (b['edgeGatewayRef'] as { id?: string } | undefined)?.id ?? existing?.ownerId ?? '';
    const edge = ctx.edge(call, ownerId);
    if (existing && ownerId !== existing.ownerId) throw badRequest('ownerRef of a firewall group cannot change');
    const addrs = b['ipAddresses'] ?? [];
    if (!Array.isArray(addrs) || addrs.some((a) => typeof a !== 'string' || !validAddress(a))) {
      throw badRequest('ipAddresses must list IPv4 or IPv6 addresses, CIDRs or ranges (a-b)');
    }
    for (const g of state.firewallGroups.values()) {
      if (g !== existing && g.ownerId === edge.id && g.name === b['name'])
        throw badRequest(`A firewall group named ${b['name']} already exists on ${edge.name}.`);
    }
    return {
      name: b['name'],
      description: typeof b['description'] === 'string' ? b['description'] : '',
      typeValue,
      ipAddresses: addrs as string[],
      ownerId: edge.id,
      orgId: edge.orgId,
    };
  };

  const profile = (p: PortProfileRec): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      status: 'REALIZED',
      id: p.id,
      name: p.name,
      description: p.description,
      scope: p.scope,
      applicationPorts: p.applicationPorts.map((a) => ({ ...(a.name ? { name: a.name } : {}), protocol: a.protocol, destinationPorts: a.destinationPorts })),
      usableForNAT: true,
    };
    if (p.orgId) out['orgRef'] = state.ref('org', p.orgId);
    return out;
  };
  const profileVisible = (call: Call, p: PortProfileRec): boolean => call.caller.provider || p.scope !== 'TENANT' || p.orgId === call.caller.orgId;
  const profileOf = (call: Call, id: string): PortProfileRec => {
    const p = state.portProfiles.get(id);
    if (!p || !profileVisible(call, p)) throw forbiddenUnknown(id);
    return p;
  };
  const parseProfile = (call: Call, raw: unknown): Omit<PortProfileRec, 'id'> => {
    const b = (raw ?? {}) as Record<string, unknown>;
    if (typeof b['name'] !== 'string' || b['name'] === '') throw badRequest('name is required');
    const scope = (b['scope'] ?? 'TENANT') as string;
    if (scope === 'SYSTEM') throw badRequest('SYSTEM port profiles cannot be created');
    if (scope !== 'TENANT' && scope !== 'PROVIDER') throw badRequest('scope must be TENANT or PROVIDER');
    if (scope === 'PROVIDER') ctx.requireProvider(call);
    const ports = b['applicationPorts'];
    if (!Array.isArray(ports) || ports.length === 0) throw badRequest('applicationPorts must not be empty');
    const applicationPorts = ports.map((p, i) => {
      const po = (p ?? {}) as Record<string, unknown>;
      const protocol = po['protocol'];
      if (!['TCP', 'UDP', 'ICMPv4', 'ICMPv6'].includes(protocol as string))
        throw badRequest(`applicationPorts[${i}].protocol must be TCP, UDP, ICMPv4 or ICMPv6`);
      const dp = po['destinationPorts'] ?? [];
      if (!Array.isArray(dp) || dp.some((d) => typeof d !== 'string' || !/^\d{1,5}(-\d{1,5})?$/.test(d)))
        throw badRequest(`applicationPorts[${i}].destinationPorts must list ports or ranges like "8080-8090"`);
      return { protocol: protocol as string, destinationPorts: dp as string[], ...(typeof po['name'] === 'string' ? { name: po['name'] } : {}) };
    });
    const orgId = scope === 'TENANT' ? ((b['orgRef'] as { id?: string } | undefined)?.id ?? call.caller.orgId) : undefined;
    if (orgId && !call.caller.provider && orgId !== call.caller.orgId) throw forbiddenUnknown(orgId);
    const out: Omit<PortProfileRec, 'id'> = {
      name: b['name'],
      description: typeof b['description'] === 'string' ? b['description'] : '',
      scope,
      applicationPorts,
    };
    if (orgId) out.orgId = orgId;
    return out;
  };
  const inUse = (kind: 'group' | 'profile', id: string): string | undefined => {
    for (const e of state.edges.values())
      for (const r of e.rules) {
        const lists = kind === 'group' ? [r.fields['sourceFirewallGroups'], r.fields['destinationFirewallGroups']] : [r.fields['applicationPortProfiles']];
        if (lists.some((l) => Array.isArray(l) && (l as Array<{ id: string }>).some((x) => x.id === id))) return `${e.name}/${String(r.fields['name'])}`;
      }
    return undefined;
  };

  return [
    {
      method: 'GET',
      pattern: `${API}/firewallGroups/summaries`,
      handler: ctx.api('34.0', (call) => {
        const filter = readFilter(call.req);
        const context = requiredTerm(filter, '_context');
        const items = [...state.firewallGroups.values()]
          .filter((g) => (call.caller.provider || g.orgId === call.caller.orgId) && (!context || g.ownerId === context))
          .map(summary);
        return pagedResponse(call.req, items, { model: 'FirewallGroupSummary', base: call.base, filter: withoutTerms(filter, ['_context']) });
      }),
    },
    {
      method: 'POST',
      pattern: `${API}/firewallGroups`,
      handler: ctx.api('34.0', (call) => {
        const fields = parseGroup(call, call.req.body);
        const g: FirewallGroupRec = { id: urn('firewallGroup'), ...fields };
        return ctx.accepted(call, {
          operation: 'FIREWALL_GROUP_CREATE',
          operationName: 'Creating firewall group',
          owner: { id: g.id, name: g.name, type: 'application/json' },
          work: () => void state.firewallGroups.set(g.id, g),
        });
      }),
    },
    { method: 'GET', pattern: `${API}/firewallGroups/{id}`, handler: ctx.api('34.0', (call) => ok(details(groupOf(call, call.req.params['id'] ?? '')))) },
    {
      method: 'PUT',
      pattern: `${API}/firewallGroups/{id}`,
      handler: ctx.api('34.0', (call) => {
        const g = groupOf(call, call.req.params['id'] ?? '');
        const fields = parseGroup(call, call.req.body, g);
        return ctx.accepted(call, {
          operation: 'FIREWALL_GROUP_UPDATE',
          operationName: 'Updating firewall group',
          owner: { id: g.id, name: g.name, type: 'application/json' },
          work: () => {
            Object.assign(g, fields);
            // Rules show group names; keep them current.
            for (const e of state.edges.values())
              for (const r of e.rules)
                for (const key of ['sourceFirewallGroups', 'destinationFirewallGroups'])
                  for (const ref of (r.fields[key] as Array<{ id: string; name: string }> | undefined) ?? []) if (ref.id === g.id) ref.name = g.name;
          },
        });
      }),
    },
    {
      method: 'DELETE',
      pattern: `${API}/firewallGroups/{id}`,
      handler: ctx.api('34.0', (call) => {
        const g = groupOf(call, call.req.params['id'] ?? '');
        const user = inUse('group', g.id);
        if (user) throw new VcdError(400, 'BAD_REQUEST', `The firewall group ${g.name} is in use by firewall rule ${user}.`);
        return ctx.accepted(call, {
          operation: 'FIREWALL_GROUP_DELETE',
          operationName: 'Deleting firewall group',
          owner: { id: g.id, name: g.name, type: 'application/json' },
          work: () => void state.firewallGroups.delete(g.id),
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/applicationPortProfiles`,
      handler: ctx.api('34.0', (call) => {
        const filter = withoutTerms(readFilter(call.req), ['_context']);
        return pagedResponse(call.req, [...state.portProfiles.values()].filter((p) => profileVisible(call, p)).map(profile), {
          model: 'ApplicationPortProfile',
          base: call.base,
          filter,
        });
      }),
    },
    {
      method: 'POST',
      pattern: `${API}/applicationPortProfiles`,
      handler: ctx.api('34.0', (call) => {
        const p: PortProfileRec = { id: urn('applicationPortProfile'), ...parseProfile(call, call.req.body) };
        return ctx.accepted(call, {
          operation: 'APPLICATION_PORT_PROFILE_CREATE',
          operationName: 'Creating application port profile',
          owner: { id: p.id, name: p.name, type: 'application/json' },
          work: () => void state.portProfiles.set(p.id, p),
        });
      }),
    },
    {
      method: 'GET',
      pattern: `${API}/applicationPortProfiles/{id}`,
      handler: ctx.api('34.0', (call) => ok(profile(profileOf(call, call.req.params['id'] ?? '')))),
    },
    {
      method: 'PUT',
      pattern: `${API}/applicationPortProfiles/{id}`,
      handler: ctx.api('34.0', (call) => {
        const p = profileOf(call, call.req.params['id'] ?? '');
        if (p.scope === 'SYSTEM') throw badRequest('SYSTEM port profiles cannot be changed');
        const fields = parseProfile(call, call.req.body);
        return ctx.accepted(call, {
          operation: 'APPLICATION_PORT_PROFILE_UPDATE',
          operationName: 'Updating application port profile',
          owner: { id: p.id, name: p.name, type: 'application/json' },
          work: () => void Object.assign(p, fields),
        });
      }),
    },
    {
      method: 'DELETE',
      pattern: `${API}/applicationPortProfiles/{id}`,
      handler: ctx.api('34.0', (call) => {
        const p = profileOf(call, call.req.params['id'] ?? '');
        if (p.scope === 'SYSTEM') throw badRequest('SYSTEM port profiles cannot be deleted');
        const user = inUse('profile', p.id);
        if (user) throw badRequest(`The application port profile ${p.name} is in use by firewall rule ${user}.`);
        return ctx.accepted(call, {
          operation: 'APPLICATION_PORT_PROFILE_DELETE',
          operationName: 'Deleting application port profile',
          owner: { id: p.id, name: p.name, type: 'application/json' },
          work: () => void state.portProfiles.delete(p.id),
        });
      }),
    },
  ];
}
