// What an EdgeFirewallRule asks VCD for: the rule body (VCD's field names and enums) once its
// references are resolved to ids, and its inline address and port sets in a canonical form, named
// by their content so identical sets on one edge share one IP set or port profile.
import { createHash } from 'node:crypto';
import { ip, type EdgeFirewallRule } from '../../api/index.ts';
import { formatRuleMarker } from './marker.ts';

export type RuleBody = Record<string, unknown>;
export interface IdRef {
  id: string;
  name?: string;
}

const ACTION = { Allow: 'ALLOW', Drop: 'DROP', Reject: 'REJECT' } as const;
const DIRECTION = { In: 'IN', Out: 'OUT', InOut: 'IN_OUT' } as const;
const IP_PROTOCOL = { IPv4: 'IPV4', IPv6: 'IPV6', IPv4IPv6: 'IPV4_IPV6' } as const;

export const DEFAULT_PRIORITY = 1000;

/** Inline addresses in one canonical spelling, deduplicated and sorted. */
export function canonicalAddresses(addresses: readonly string[]): string[] {
  const one = (s: string): string => {
    const t = s.trim();
    const c = ip.parseCIDR(t);
    if (c) return ip.formatCIDR(c);
    const a = ip.parseIP(t);
    if (a) return ip.formatIP(a);
    const [x, y] = t.split('-').map((p) => ip.parseIP(p));
    return x && y ? `${ip.formatIP(x)}-${ip.formatIP(y)}` : t;
  };
  return [...new Set(addresses.map(one))].sort();
}

export interface PortEntry {
  protocol: 'TCP' | 'UDP' | 'ICMPv4' | 'ICMPv6';
  destinationPorts: string[];
}

/** Inline ports merged per protocol, deduplicated and sorted. */
export function canonicalPorts(ports: readonly { protocol: PortEntry['protocol']; destinationPorts?: string[] }[]): PortEntry[] {
  const by = new Map<PortEntry['protocol'], Set<string> | 'any'>();
  for (const p of ports) {
    const prev = by.get(p.protocol);
    if (prev === 'any') continue;
    if (!p.destinationPorts?.length) {
      by.set(p.protocol, 'any');
      continue;
    }
    const set = prev ?? new Set<string>();
    for (const d of p.destinationPorts) set.add(d);
    by.set(p.protocol, set);
  }
  const order = (a: string, b: string) => Number(a.split('-')[0]) - Number(b.split('-')[0]) || a.localeCompare(b);
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([protocol, set]) => ({ protocol, destinationPorts: set === 'any' ? [] : [...set].sort(order) }));
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);
}

/** The name of the operator's IP set holding these addresses on this edge. */
export function ipSetName(edgeId: string, addresses: readonly string[]): string {
  return `vcdop-ips-${digest([edgeId, ...addresses])}`;
}

/** The name of the operator's port profile holding these ports for this edge. */
export function portProfileName(edgeId: string, ports: readonly PortEntry[]): string {
  return `vcdop-ports-${digest([edgeId, ...ports.map((p) => `${p.protocol}:${p.destinationPorts.join(',')}`)])}`;
}

export interface InlineSets {
  sources?: string[];
  destinations?: string[];
  ports?: PortEntry[];
}

/** A rule's inline sets, canonical; empty sets are left out. */
export function inlineSetsOf(rule: EdgeFirewallRule): InlineSets {
  const out: InlineSets = {};
  const src = canonicalAddresses(rule.spec.sources?.addresses ?? []);
  const dst = canonicalAddresses(rule.spec.destinations?.addresses ?? []);
  const ports = canonicalPorts(rule.spec.services?.ports ?? []);
  if (src.length) out.sources = src;
  if (dst.length) out.destinations = dst;
  if (ports.length) out.ports = ports;
  return out;
}

export interface ResolvedRefs {
  sources: IdRef[];
  destinations: IdRef[];
  profiles: IdRef[];
  appliedTo?: IdRef;
}

/** The rule name shown in VCD. */
export function vcdRuleName(rule: EdgeFirewallRule): string {
  return `${rule.metadata?.namespace ?? ''}/${rule.metadata?.name ?? ''}`;
}

/** The rule body VCD stores for this object, references given by id. */
export function ruleBody(rule: EdgeFirewallRule, clusterId: string, refs: ResolvedRefs): RuleBody {
  const s = rule.spec;
  const body: RuleBody = {
    name: vcdRuleName(rule),
    description: formatRuleMarker({ clusterId, namespace: rule.metadata?.namespace ?? '', name: rule.metadata?.name ?? '', uid: rule.metadata?.uid ?? '' }),
    actionValue: ACTION[s.action],
    direction: DIRECTION[s.direction ?? 'InOut'],
    ipProtocol: IP_PROTOCOL[s.ipProtocol ?? 'IPv4IPv6'],
    logging: s.logging ?? false,
    enabled: s.enabled ?? true,
  };
  if (s.comments) body['comments'] = s.comments;
  if (refs.sources.length) body['sourceFirewallGroups'] = refs.sources;
  if (refs.destinations.length) body['destinationFirewallGroups'] = refs.destinations;
  if (refs.profiles.length) body['applicationPortProfiles'] = refs.profiles;
  if (refs.appliedTo) body['appliedTo'] = refs.appliedTo;
  return body;
}

function ids(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v
    .map((r) => (r as { id?: unknown } | null)?.id)
    .map((id) => (typeof id === 'string' ? id : ''))
    .sort();
}

/** The fields the operator sets, in a form where equal means "nothing to write". */
export function projection(r: RuleBody): string {
  const applied = r['appliedTo'] as { id?: unknown } | null | undefined;
  return JSON.stringify([
    r['name'],
    r['description'] ?? '',
    r['comments'] ?? '',
    r['actionValue'] ?? r['action'],
    r['direction'] ?? 'IN_OUT',
    r['ipProtocol'] ?? 'IPV4_IPV6',
    r['logging'] === true,
    r['enabled'] !== false,
    ids(r['sourceFirewallGroups']),
    ids(r['destinationFirewallGroups']),
    ids(r['applicationPortProfiles']),
    applied?.id ?? '',
  ]);
}
