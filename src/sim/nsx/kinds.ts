// The policy object kinds the simulator serves: where each lives in the tree, its resource_type,
// and the schema rules NSX enforces on write (enums, required fields, paths that must exist).
// Only what clients of this project send is checked; unknown fields are kept as given.
import { isIP } from 'node:net';
import { NsxApiError, NsxErrorCode } from './errors.ts';
import type { NsxObject, PolicyStore } from './store.ts';

export interface KindSpec {
  /** Collection path pattern under /policy/api/v1, with `{param}` segments. */
  collection: string;
  resourceType: string;
  /** Fills defaults and throws NsxApiError(400) for what NSX would refuse. */
  validate?: (obj: NsxObject, store: PolicyStore) => void;
}

export const TIER0 = '/infra/tier-0s';
export const TIER1 = '/infra/tier-1s';
export const DEFAULT_DOMAIN = '/infra/domains/default';

export const KINDS: readonly KindSpec[] = [
  { collection: TIER0, resourceType: 'Tier0', validate: validateTier0 },
  { collection: `${TIER0}/{t0}/locale-services`, resourceType: 'LocaleServices', validate: validateT0LocaleServices },
  { collection: `${TIER0}/{t0}/locale-services/{ls}/interfaces`, resourceType: 'Tier0Interface', validate: validateT0Interface },
  { collection: `${TIER0}/{t0}/prefix-lists`, resourceType: 'PrefixList', validate: validatePrefixList },
  { collection: `${TIER0}/{t0}/route-maps`, resourceType: 'Tier0RouteMap', validate: validateRouteMap },
  { collection: TIER1, resourceType: 'Tier1', validate: validateTier1 },
  { collection: `${TIER1}/{t1}/locale-services`, resourceType: 'LocaleServices' },
  { collection: `${TIER1}/{t1}/locale-services/{ls}/interfaces`, resourceType: 'Tier1Interface', validate: validateT1Interface },
  { collection: '/infra/domains/{domain}/gateway-policies', resourceType: 'GatewayPolicy', validate: validateGatewayPolicy },
  { collection: '/infra/domains/{domain}/gateway-policies/{policy}/rules', resourceType: 'Rule', validate: validateRule },
];

export const RULE_KIND = KINDS.find((k) => k.resourceType === 'Rule') as KindSpec;

function invalid(message: string): never {
  throw new NsxApiError(400, NsxErrorCode.invalidArgument, message);
}

function invalidPath(path: string): never {
  throw new NsxApiError(400, NsxErrorCode.invalidPath, `The path=[${path}] is invalid`);
}

function oneOf(obj: NsxObject, field: string, allowed: readonly string[], fallback?: string): void {
  const v = obj[field];
  if (v === undefined && fallback !== undefined) {
    obj[field] = fallback;
    return;
  }
  if (typeof v !== 'string' || !allowed.includes(v)) {
    invalid(`Field ${field} of ${obj.resource_type} ${obj.id} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}.`);
  }
}

function stringList(obj: NsxObject, field: string): string[] | undefined {
  const v = obj[field];
  if (v === undefined) return undefined;
  if (!isStringList(v)) invalid(`Field ${field} must be a list of strings.`);
  return v;
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function requirePathOf(store: PolicyStore, path: unknown, resourceTypes: readonly string[]): void {
  if (typeof path !== 'string') invalidPath(String(path));
  const target = store.get(path);
  if (!target || !resourceTypes.includes(target.resource_type)) invalidPath(path);
}

function validateTier0(obj: NsxObject): void {
  oneOf(obj, 'ha_mode', ['ACTIVE_ACTIVE', 'ACTIVE_STANDBY'], 'ACTIVE_STANDBY');
}

function validateTier1(obj: NsxObject, store: PolicyStore): void {
  if (obj.tier0_path !== undefined && obj.tier0_path !== '') requirePathOf(store, obj.tier0_path, ['Tier0']);
  const types = stringList(obj, 'route_advertisement_types') ?? [];
  const allowed = [
    'TIER1_STATIC_ROUTES',
    'TIER1_CONNECTED',
    'TIER1_NAT',
    'TIER1_LB_VIP',
    'TIER1_LB_SNAT',
    'TIER1_DNS_FORWARDER_IP',
    'TIER1_IPSEC_LOCAL_ENDPOINT',
  ];
  for (const t of types) if (!allowed.includes(t)) invalid(`Unknown route advertisement type ${t}.`);
}

function validateSubnets(obj: NsxObject): void {
  const subnets = obj.subnets;
  if (!Array.isArray(subnets) || subnets.length === 0) invalid(`Field subnets is required for ${obj.resource_type} ${obj.id}.`);
  for (const s of subnets as unknown[]) {
    const sub = s as { ip_addresses?: unknown; prefix_len?: unknown };
    const ips = sub.ip_addresses;
    if (!Array.isArray(ips) || ips.length === 0 || !ips.every((ip) => typeof ip === 'string' && isIP(ip) !== 0)) {
      invalid(`Each subnet of ${obj.id} needs ip_addresses holding IP addresses.`);
    }
    if (typeof sub.prefix_len !== 'number' || !Number.isInteger(sub.prefix_len) || sub.prefix_len < 1 || sub.prefix_len > 128) {
      invalid(`Each subnet of ${obj.id} needs an integer prefix_len.`);
    }
  }
}

function validateT0Interface(obj: NsxObject): void {
  oneOf(obj, 'type', ['EXTERNAL', 'SERVICE', 'LOOPBACK'], 'EXTERNAL');
  validateSubnets(obj);
  if (obj.type !== 'LOOPBACK' && typeof obj.segment_path !== 'string') invalid(`Field segment_path is required for ${obj.type as string} interfaces.`);
}

function validateT1Interface(obj: NsxObject): void {
  validateSubnets(obj);
  if (typeof obj.segment_path !== 'string') invalid('Field segment_path is required for Tier1Interface.');
}

const REDISTRIBUTION_TYPES = [
  'TIER0_STATIC',
  'TIER0_CONNECTED',
  'TIER0_EXTERNAL_INTERFACE',
  'TIER0_SEGMENT',
  'TIER0_ROUTER_LINK',
  'TIER0_SERVICE_INTERFACE',
  'TIER0_LOOPBACK_INTERFACE',
  'TIER0_DNS_FORWARDER_IP',
  'TIER0_IPSEC_LOCAL_IP',
  'TIER0_NAT',
  'TIER0_EVPN_TEP_IP',
  'TIER1_NAT',
  'TIER1_STATIC',
  'TIER1_LB_VIP',
  'TIER1_LB_SNAT',
  'TIER1_DNS_FORWARDER_IP',
  'TIER1_CONNECTED',
  'TIER1_SERVICE_INTERFACE',
  'TIER1_SEGMENT',
  'TIER1_IPSEC_LOCAL_ENDPOINT',
];

function validateT0LocaleServices(obj: NsxObject, store: PolicyStore): void {
  const config = obj.route_redistribution_config as { redistribution_rules?: unknown } | undefined;
  if (config === undefined) return;
  const rules = config.redistribution_rules ?? [];
  if (!Array.isArray(rules)) invalid('route_redistribution_config.redistribution_rules must be a list.');
  for (const r of rules as unknown[]) {
    const rule = r as { route_redistribution_types?: unknown; route_map_path?: unknown; destinations?: unknown };
    const types = rule.route_redistribution_types;
    if (!Array.isArray(types)) invalid('Each redistribution rule needs route_redistribution_types.');
    for (const t of types as unknown[]) {
      if (typeof t !== 'string' || !REDISTRIBUTION_TYPES.includes(t)) invalid(`Unknown route redistribution type ${String(t)}.`);
    }
    if (rule.route_map_path !== undefined) requirePathOf(store, rule.route_map_path, ['Tier0RouteMap']);
    const dests = (rule.destinations ?? ['BGP']) as unknown[];
    if (!Array.isArray(dests) || !dests.every((d) => d === 'BGP' || d === 'OSPF')) invalid('destinations must be BGP or OSPF.');
  }
}

function validatePrefixList(obj: NsxObject): void {
  const prefixes = obj.prefixes;
  if (!Array.isArray(prefixes) || prefixes.length === 0) invalid(`Field prefixes is required for PrefixList ${obj.id}.`);
  for (const p of prefixes as unknown[]) {
    const entry = p as { network?: unknown; action?: unknown; ge?: unknown; le?: unknown };
    if (entry.network === undefined) entry.network = 'ANY';
    const bits = prefixBits(entry.network);
    if (bits === undefined) invalid(`Prefix ${JSON.stringify(entry.network)} is not a CIDR or ANY.`);
    if (entry.action !== 'PERMIT' && entry.action !== 'DENY') invalid('Prefix action must be PERMIT or DENY.');
    for (const k of ['ge', 'le'] as const) {
      const v = entry[k];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > bits.max || v < bits.len)) {
        invalid(`Prefix ${String(entry.network)}: ${k} must be an integer between the prefix length and ${bits.max}.`);
      }
    }
    if (typeof entry.ge === 'number' && typeof entry.le === 'number' && entry.ge > entry.le) {
      invalid(`Prefix ${String(entry.network)}: ge must not exceed le.`);
    }
  }
}

function prefixBits(network: unknown): { len: number; max: number } | undefined {
  if (network === 'ANY') return { len: 0, max: 128 };
  if (typeof network !== 'string') return undefined;
  const [addr, len] = network.split('/');
  const family = isIP(addr ?? '');
  const max = family === 4 ? 32 : family === 6 ? 128 : 0;
  const n = Number(len);
  if (max === 0 || len === undefined || !/^\d+$/.test(len) || n > max) return undefined;
  return { len: n, max };
}

function validateRouteMap(obj: NsxObject, store: PolicyStore): void {
  const entries = obj.entries;
  if (!Array.isArray(entries) || entries.length === 0) invalid(`Field entries is required for Tier0RouteMap ${obj.id}.`);
  for (const e of entries as unknown[]) {
    const entry = e as { action?: unknown; prefix_list_matches?: unknown; community_list_matches?: unknown };
    if (entry.action !== 'PERMIT' && entry.action !== 'DENY') invalid('Route map entry action must be PERMIT or DENY.');
    const prefixMatches = entry.prefix_list_matches;
    const communityMatches = entry.community_list_matches;
    if ((prefixMatches === undefined) === (communityMatches === undefined)) {
      invalid('A route map entry needs exactly one of prefix_list_matches and community_list_matches.');
    }
    if (prefixMatches !== undefined) {
      if (!Array.isArray(prefixMatches) || prefixMatches.length === 0) invalid('prefix_list_matches must be a non-empty list.');
      for (const p of prefixMatches as unknown[]) requirePathOf(store, p, ['PrefixList']);
    }
  }
}

function validateGatewayPolicy(obj: NsxObject): void {
  oneOf(obj, 'category', ['Emergency', 'SharedPreRules', 'LocalGatewayRules', 'Default'], 'LocalGatewayRules');
  const scope = obj.scope;
  if (Array.isArray(scope) && scope.length > 0) invalid('Gateway policies do not support scope; set scope on each rule.');
  if (obj.sequence_number === undefined) obj.sequence_number = 0;
}

/** Paths a gateway-firewall rule may be scoped to: gateways and their interfaces. */
const SCOPE_TYPES = ['Tier0', 'Tier1', 'Tier0Interface', 'Tier1Interface'];

function validateRule(obj: NsxObject, store: PolicyStore): void {
  oneOf(obj, 'action', ['ALLOW', 'DROP', 'REJECT']);
  oneOf(obj, 'direction', ['IN', 'OUT', 'IN_OUT'], 'IN_OUT');
  oneOf(obj, 'ip_protocol', ['IPV4', 'IPV6', 'IPV4_IPV6'], 'IPV4_IPV6');
  for (const field of ['source_groups', 'destination_groups', 'services']) {
    const list = stringList(obj, field) ?? ['ANY'];
    if (list.length === 0) invalid(`Field ${field} of rule ${obj.id} must not be empty; use ["ANY"].`);
    if (list.some((v) => v.toUpperCase() === 'ANY') && list.length > 1) {
      invalid(`ANY must be the only element of ${field} in rule ${obj.id}.`);
    }
    obj[field] = list;
  }
  const scope = stringList(obj, 'scope');
  if (!scope || scope.length === 0) invalid(`Gateway policy rule ${obj.id} requires scope (gateway or interface paths).`);
  for (const p of scope) requirePathOf(store, p, SCOPE_TYPES);
  const seq = obj.sequence_number ?? 0;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) invalid('sequence_number must be a non-negative integer.');
  obj.sequence_number = seq;
  for (const flag of ['logged', 'disabled', 'sources_excluded', 'destinations_excluded']) obj[flag] ??= false;
}
