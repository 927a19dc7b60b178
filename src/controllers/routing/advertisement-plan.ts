// What the Tier-0 advertisement of IP Spaces looks like in NSX, as pure functions: the prefix
// list of one IP Space (its internal scope, with ge/le that admit exactly the lengths VCD hands
// out from it), the route-map entries permitting our prefix lists, and the redistribution rule.
import { ip, type IPSpaceSpec } from '../../api/index.ts';
import type { PrefixEntry, RedistributionRule, RouteMapEntry } from '../../clients/nsx/index.ts';

/** Our prefix lists are named by the IPSpace's UID, so two IP Spaces of one name never collide. */
export const PREFIX_LIST_PREFIX = 'vcd-operator-ipspace-';

export function prefixListId(uid: string): string {
  return `${PREFIX_LIST_PREFIX}${uid}`;
}

/** One route map and one rule per cluster on a Tier-0, shared by every IP Space it advertises. */
export function routeMapId(clusterId: string): string {
  return `vcd-operator-ip-spaces-${clusterId.slice(0, 8)}`;
}

export function tier0Path(tier0Id: string): string {
  return `/infra/tier-0s/${tier0Id}`;
}

/**
 * One PERMIT entry per internal-scope CIDR. Routes reaching the Tier-0 from the edges are the
 * prefixes of the sequences inside that CIDR and, where it holds floating-IP ranges, host routes;
 * ge/le admit those lengths and nothing shorter (a summary of the scope itself is not announced by
 * accident). A scope with neither admits every length inside it.
 */
export function prefixEntries(spec: Pick<IPSpaceSpec, 'internalScope' | 'prefixSequences' | 'ipRanges'>): PrefixEntry[] {
  return spec.internalScope.flatMap((text): PrefixEntry[] => {
    const scope = ip.parseCIDR(text);
    if (!scope) return [];
    const max = ip.bitLength(scope.ip.family);
    const lengths = new Set<number>();
    for (const p of spec.prefixSequences ?? []) {
      const c = ip.parseCIDR(p.startCIDR);
      if (c && ip.cidrContainsCIDR(scope, c)) lengths.add(c.prefixLength);
    }
    for (const r of spec.ipRanges ?? []) {
      const start = ip.parseIP(r.start);
      if (start && ip.cidrContainsIP(scope, start)) lengths.add(max);
    }
    const network = ip.formatCIDR(ip.masked(scope));
    if (lengths.size === 0) return [{ network, action: 'PERMIT', le: max }];
    const ge = Math.min(...lengths);
    const le = Math.max(...lengths);
    return [{ network, action: 'PERMIT', ...(ge > scope.prefixLength ? { ge } : {}), le }];
  });
}

export function routeMapEntries(t0: string, listIds: readonly string[]): RouteMapEntry[] {
  return [...listIds].sort().map((id) => ({ action: 'PERMIT', prefix_list_matches: [`${tier0Path(t0)}/prefix-lists/${id}`] }));
}

/** Route-map entries we own: those matching only our prefix lists. */
export function ownsRouteMapEntry(e: RouteMapEntry): boolean {
  const m = e.prefix_list_matches ?? [];
  return m.length > 0 && m.every((p) => (p.split('/').pop() ?? '').startsWith(PREFIX_LIST_PREFIX));
}

/** Tier-1 routes the edges of IP-Space networks announce: connected networks, NAT (floating IPs) and static routes. */
export function redistributionRule(t0: string, mapId: string): RedistributionRule {
  return {
    name: mapId,
    route_redistribution_types: ['TIER1_CONNECTED', 'TIER1_NAT', 'TIER1_STATIC'],
    route_map_path: `${tier0Path(t0)}/route-maps/${mapId}`,
    destinations: ['BGP'],
  };
}
