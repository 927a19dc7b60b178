// The operator's own IP sets and port profiles for inline addresses and ports. They are named by
// their content and never changed, so rules of one edge with identical sets share one object
// safely. Order of writes: create what the new list needs (here) → PUT the list → delete what no
// rule uses any more (sweep). A crash between the steps leaves at worst an unused marked object,
// which the next sweep finds by its marker.
import { VcdApiError, type VcdClient } from '../../clients/vcd/index.ts';
import { ipSetName, portProfileName, type InlineSets, type PortEntry } from './desired.ts';
import { formatObjectMarker, parseObjectMarker } from './marker.ts';
import { unusedOwned, type RawRule } from './plan.ts';

export interface InlineWants {
  ipSets: Map<string, string[]>;
  profiles: Map<string, PortEntry[]>;
}

export function wantsOf(edgeId: string, sets: Iterable<InlineSets>): InlineWants {
  const out: InlineWants = { ipSets: new Map(), profiles: new Map() };
  for (const s of sets) {
    for (const a of [s.sources, s.destinations]) if (a) out.ipSets.set(ipSetName(edgeId, a), a);
    if (s.ports) out.profiles.set(portProfileName(edgeId, s.ports), s.ports);
  }
  return out;
}

/** name → id of operator-named objects the current list already references (no read needed). */
export function knownFromRules(rules: readonly RawRule[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of rules)
    for (const key of ['sourceFirewallGroups', 'destinationFirewallGroups', 'applicationPortProfiles']) {
      const refs = r[key];
      if (!Array.isArray(refs)) continue;
      for (const ref of refs as Array<{ id?: unknown; name?: unknown }>) {
        if (typeof ref?.id === 'string' && typeof ref.name === 'string' && ref.name.startsWith('vcdop-')) out.set(ref.name, ref.id);
      }
    }
  return out;
}

export interface EnsureResult {
  ids: Map<string, string>;
  /** Sets VCD refused to create, with its message (e.g. an address it does not accept). */
  refused: Map<string, string>;
  created: number;
}

/** Finds or creates every wanted set; `known` holds ids already seen in the rule list. */
export async function ensureInline(
  client: VcdClient,
  clusterId: string,
  edgeId: string,
  wants: InlineWants,
  known: Map<string, string>,
): Promise<EnsureResult> {
  const ids = new Map([...known].filter(([n]) => wants.ipSets.has(n) || wants.profiles.has(n)));
  const refused = new Map<string, string>();
  let created = 0;
  const description = formatObjectMarker({ clusterId, edgeId });
  const isOurs = (d: string | undefined) => sameOwner(d, clusterId, edgeId);

  const missingSets = [...wants.ipSets.keys()].filter((n) => !ids.has(n));
  if (missingSets.length) {
    for (const g of await client.firewallGroups.list({ edgeGatewayId: edgeId })) if (g.id && isOurs(g.description)) ids.set(g.name, g.id);
    for (const name of missingSets.filter((n) => !ids.has(n))) {
      try {
        const g = await client.firewallGroups.create({
          name,
          description,
          typeValue: 'IP_SET',
          ipAddresses: wants.ipSets.get(name) ?? [],
          ownerRef: { id: edgeId },
        });
        if (g.id) ids.set(name, g.id);
        created++;
      } catch (err) {
        if (!(err instanceof VcdApiError) || err.status !== 400 || err.minorErrorCode === 'BUSY_ENTITY') throw err;
        refused.set(name, err.serverMessage);
      }
    }
  }
  const missingProfiles = [...wants.profiles.keys()].filter((n) => !ids.has(n));
  if (missingProfiles.length) {
    for (const p of await client.applicationPortProfiles.list()) if (p.id && isOurs(p.description)) ids.set(p.name, p.id);
    for (const name of missingProfiles.filter((n) => !ids.has(n))) {
      try {
        const p = await client.applicationPortProfiles.create({ name, description, scope: 'TENANT', applicationPorts: wants.profiles.get(name) ?? [] });
        if (p.id) ids.set(name, p.id);
        created++;
      } catch (err) {
        if (!(err instanceof VcdApiError) || err.status !== 400) throw err;
        refused.set(name, err.serverMessage);
      }
    }
  }
  return { ids, refused, created };
}

function sameOwner(description: string | undefined, clusterId: string, edgeId: string): boolean {
  const m = parseObjectMarker(description);
  return m?.clusterId === clusterId && m.edgeId === edgeId;
}

/** Deletes this edge's operator-owned sets that no rule in `rules` uses; returns how many. */
export async function sweepInline(client: VcdClient, clusterId: string, edgeId: string, rules: readonly RawRule[]): Promise<number> {
  const isOurs = (d: string | undefined) => sameOwner(d, clusterId, edgeId);
  let deleted = 0;
  for (const g of unusedOwned(await client.firewallGroups.list({ edgeGatewayId: edgeId }), rules, isOurs)) {
    if (await client.firewallGroups.delete(g.id ?? '', { edgeGatewayId: edgeId })) deleted++;
  }
  for (const p of unusedOwned(await client.applicationPortProfiles.list(), rules, isOurs)) {
    if (await client.applicationPortProfiles.delete(p.id ?? '')) deleted++;
  }
  return deleted;
}
