// Edge firewall rules: reading a rule the client wrote (checking its references, its appliedTo
// scope and the version-gated fields), and the whole-list replace semantics of PUT .../rules.
import { randomUUID } from 'node:crypto';
import { badRequest } from './errors.ts';
import type { EdgeRec, FirewallRuleRec, VcdState } from './state.ts';
import { atLeast, gate } from './version.ts';

export const MAX_USER_RULES = 1000;
const IP_PROTOCOLS = ['IPV4', 'IPV6', 'IPV4_IPV6'];
const ACTIONS = ['ALLOW', 'DROP', 'REJECT'];
const DIRECTIONS = ['IN', 'OUT', 'IN_OUT'];

export function defaultFirewallRule(): FirewallRuleRec {
  return {
    id: randomUUID(),
    version: 0,
    fields: { name: 'default_rule', actionValue: 'DROP', direction: 'IN_OUT', ipProtocol: 'IPV4_IPV6', logging: false, enabled: true },
  };
}

type Ref = { id: string; name: string };

function refs(state: VcdState, raw: unknown, what: string, lookup: (id: string) => string | undefined): Ref[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw badRequest(`${what} must be a list`);
  if (raw.length > 128) throw badRequest(`${what} may hold at most 128 entries`);
  return raw.map((r, i) => {
    const id = (r as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') throw badRequest(`${what}[${i}].id is required`);
    const name = lookup(id);
    if (name === undefined) throw badRequest(`${what}[${i}]: ${id} does not exist or is not usable on this edge gateway`);
    return { id, name };
  });
}

/** The service interfaces of an edge that `appliedTo` may name: segment uplinks and non-distributed networks. */
export function serviceInterfaces(state: VcdState, edge: EdgeRec): Map<string, string> {
  const out = new Map<string, string>();
  for (const u of edge.uplinks) {
    const net = state.externalNetworks.get(u.networkId);
    if (net?.kind === 'SEGMENT') out.set(net.id, net.name);
  }
  for (const n of state.orgVdcNetworks.values()) if (n.edgeId === edge.id && n.connectionTypeValue === 'NON_DISTRIBUTED') out.set(n.id, n.name);
  return out;
}

/** Checks one rule body and returns its stored fields. */
export function parseRule(state: VcdState, edge: EdgeRec, raw: unknown, version: string, where: string): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object') throw badRequest(`${where} must be an object`);
  const r = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (typeof r['name'] !== 'string' || r['name'] === '') throw badRequest(`${where}.name is required`);
  out['name'] = r['name'];
  if (typeof r['description'] === 'string') out['description'] = r['description'];
  if (r['comments'] !== undefined && r['comments'] !== null) {
    if (typeof r['comments'] !== 'string' || r['comments'].length > 2048) throw badRequest(`${where}.comments must be a string of at most 2048 characters`);
    out['comments'] = r['comments'];
  }
  const group = (id: string): string | undefined => {
    const g = state.firewallGroups.get(id);
    return g && (g.ownerId === edge.id || g.orgId === edge.orgId) ? g.name : undefined;
  };
  const profile = (id: string): string | undefined => {
    const p = state.portProfiles.get(id);
    return p && (p.scope !== 'TENANT' || p.orgId === edge.orgId) ? p.name : undefined;
  };
  const src = refs(state, r['sourceFirewallGroups'], `${where}.sourceFirewallGroups`, group);
  const dst = refs(state, r['destinationFirewallGroups'], `${where}.destinationFirewallGroups`, group);
  const app = refs(state, r['applicationPortProfiles'], `${where}.applicationPortProfiles`, profile);
  if (src?.length) out['sourceFirewallGroups'] = src;
  if (dst?.length) out['destinationFirewallGroups'] = dst;
  if (app?.length) out['applicationPortProfiles'] = app;
  // Later API versions add raw addresses and insert positions; silently dropping them would widen
  // a rule to ANY or misplace it, so the simulator refuses them.
  for (const later of ['sourceFirewallIpAddresses', 'destinationFirewallIpAddresses', 'relativePosition', 'rawPortProtocols']) {
    const v = r[later];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      throw badRequest(`${where}.${later} is not supported by the simulator; use firewall groups and the whole-list PUT`);
    }
  }
  // The simulator models no network context profiles (they come from NSX); it keeps well-formed
  // references as given, so rules written in the UI with them can be read back and rewritten.
  const ncp = r['networkContextProfiles'];
  if (ncp !== undefined && ncp !== null) {
    if (!Array.isArray(ncp) || ncp.length > 128) throw badRequest(`${where}.networkContextProfiles must be a list of at most 128 references`);
    const kept = ncp.map((x, i) => {
      const ref = (x ?? {}) as { id?: unknown; name?: unknown };
      if (typeof ref.id !== 'string' || !ref.id.startsWith('urn:vcloud:networkContextProfile:'))
        throw badRequest(`${where}.networkContextProfiles[${i}].id must be a network context profile id`);
      return { id: ref.id, name: typeof ref.name === 'string' ? ref.name : ref.id };
    });
    if (kept.length) out['networkContextProfiles'] = kept;
  }

  const ipProtocol = r['ipProtocol'] ?? 'IPV4_IPV6';
  if (!IP_PROTOCOLS.includes(ipProtocol as string)) throw badRequest(`${where}.ipProtocol must be one of ${IP_PROTOCOLS.join(', ')}`);
  out['ipProtocol'] = ipProtocol;
  const action = r['actionValue'] ?? r['action'];
  if (action === undefined || action === null) throw badRequest(`${where}: one of action or actionValue is required`);
  if (!ACTIONS.includes(action as string) || (r['actionValue'] === undefined && action === 'REJECT')) {
    throw badRequest(`${where}.actionValue must be one of ${ACTIONS.join(', ')}`);
  }
  out['actionValue'] = action;
  const direction = r['direction'] ?? 'IN_OUT';
  if (!DIRECTIONS.includes(direction as string)) throw badRequest(`${where}.direction must be one of ${DIRECTIONS.join(', ')}`);
  out['direction'] = direction;
  out['logging'] = r['logging'] === true;
  out['enabled'] = r['enabled'] !== false;

  // A client on an older API version cannot know appliedTo; VCD drops it (which is how
  // read-modify-write at 37.0 strips the scope from every rule).
  if (atLeast(version, '37.1') && r['appliedTo'] !== undefined && r['appliedTo'] !== null) {
    const id = (r['appliedTo'] as { id?: unknown }).id;
    const allowed = serviceInterfaces(state, edge);
    if (typeof id !== 'string' || !allowed.has(id)) {
      throw badRequest(
        `${where}.appliedTo must name a service interface of edge gateway ${edge.name} (a segment-backed external network or a non-distributed org VDC network); ${String(id)} is not one.`,
      );
    }
    out['appliedTo'] = { id, name: allowed.get(id) };
  }
  return out;
}

export function renderRule(rule: FirewallRuleRec, version: string): Record<string, unknown> {
  const f = rule.fields;
  const actionValue = f['actionValue'] as string;
  return gate(
    'EdgeFirewallRule',
    { id: rule.id, ...f, action: actionValue === 'REJECT' ? 'DROP' : actionValue, actionValue, version: { version: rule.version } },
    version,
  );
}

/**
 * Whole-list replace: rules with a known id are updated (version bumped when they change), others
 * are created with new ids, rules left out are deleted, and payload order is evaluation order.
 */
export function replaceRules(existing: readonly FirewallRuleRec[], incoming: Array<{ id?: string; fields: Record<string, unknown> }>): FirewallRuleRec[] {
  const byId = new Map(existing.map((r) => [r.id, r]));
  const used = new Set<string>();
  return incoming.map(({ id, fields }) => {
    const old = id ? byId.get(id) : undefined;
    if (old && !used.has(old.id)) {
      used.add(old.id);
      const changed = JSON.stringify(old.fields) !== JSON.stringify(fields);
      return { id: old.id, version: changed ? old.version + 1 : old.version, fields };
    }
    return { id: randomUUID(), version: 0, fields };
  });
}
