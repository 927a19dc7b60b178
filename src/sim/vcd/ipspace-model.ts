// IP Space rules: validating an IP Space definition, allocating floating IPs and prefixes from its
// pools under the org's quota, and the utilization figures VCD reports.
import { randomUUID } from 'node:crypto';
import { badRequest } from './errors.ts';
import { cidrContains, cidrSize, formatCidr, formatIPv4, isIPv6, networkOf, parseCidr, parseIPv4, type Cidr } from './ip.ts';
import type { AllocationRec, AllocationType, IpRangeRec, IpSpaceRec, OrgUsage, PrefixSeqRec, VcdState } from './state.ts';
import { urn } from './state.ts';
import { atLeast } from './version.ts';

const TYPES = ['PUBLIC', 'PRIVATE', 'SHARED_SERVICES'] as const;

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${what} must be an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw badRequest(`${what} is required`);
  return v;
}
function int(v: unknown, what: string, dflt?: number): number {
  if (v === undefined || v === null) {
    if (dflt === undefined) throw badRequest(`${what} is required`);
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`${what} must be an integer`);
  return v;
}
function ipv4(v: unknown, what: string): number {
  const s = str(v, what);
  if (isIPv6(s)) throw badRequest(`${what}: the simulator supports IPv4 IP Spaces only`);
  const n = parseIPv4(s);
  if (n === undefined) throw badRequest(`${what}: ${s} is not a valid IP address`);
  return n;
}

/** Reads and checks an IpSpace body; `existing` keeps ids of unchanged ranges and sequences. */
export function parseIpSpace(
  state: VcdState,
  body: unknown,
  existing?: IpSpaceRec,
  version = '37.2',
): Omit<IpSpaceRec, 'id' | 'allocations' | 'byValue' | 'usage' | 'busy'> {
  const b = obj(body, 'body');
  const name = str(b['name'], 'name');
  const type = str(b['type'], 'type') as IpSpaceRec['type'];
  if (!TYPES.includes(type)) throw badRequest(`type must be one of ${TYPES.join(', ')}`);
  if (existing && existing.type !== type && !(existing.type === 'SHARED_SERVICES' && type === 'PUBLIC')) {
    throw badRequest(`The IP Space type cannot change from ${existing.type} to ${type}`);
  }
  let orgId: string | undefined;
  if (type === 'PRIVATE') {
    const orgRef = obj(b['orgRef'], 'orgRef (required for a PRIVATE IP Space)');
    orgId = str(orgRef['id'], 'orgRef.id');
    if (!state.orgs.has(orgId)) throw badRequest(`orgRef ${orgId} does not name an organization`);
  }
  const scopeIn = b['ipSpaceInternalScope'];
  if (!Array.isArray(scopeIn) || scopeIn.length === 0 || scopeIn.length > 5) {
    throw badRequest('ipSpaceInternalScope must list 1 to 5 CIDRs');
  }
  const scopes: Cidr[] = scopeIn.map((s, i) => {
    const text = str(s, `ipSpaceInternalScope[${i}]`);
    if (isIPv6(text)) throw badRequest('the simulator supports IPv4 IP Spaces only');
    const c = parseCidr(text);
    if (!c) throw badRequest(`ipSpaceInternalScope[${i}]: ${text} is not a CIDR`);
    return c;
  });
  const inScope = (first: number, last: number): boolean => scopes.some((c) => cidrContains(c, first, last));
  let externalScope: string | undefined;
  if (b['ipSpaceExternalScope'] !== undefined && b['ipSpaceExternalScope'] !== null) {
    const c = parseCidr(str(b['ipSpaceExternalScope'], 'ipSpaceExternalScope'));
    if (!c) throw badRequest('ipSpaceExternalScope must be a CIDR');
    externalScope = formatCidr(c);
  }

  const rangesIn = b['ipSpaceRanges'] === undefined || b['ipSpaceRanges'] === null ? {} : obj(b['ipSpaceRanges'], 'ipSpaceRanges');
  const rangeList = rangesIn['ipRanges'] ?? [];
  if (!Array.isArray(rangeList)) throw badRequest('ipSpaceRanges.ipRanges must be a list');
  const ranges: IpRangeRec[] = rangeList.map((r, i) => {
    const ro = obj(r, `ipRanges[${i}]`);
    const start = ipv4(ro['startIpAddress'], `ipRanges[${i}].startIpAddress`);
    const end = ipv4(ro['endIpAddress'], `ipRanges[${i}].endIpAddress`);
    if (end < start) throw badRequest(`ipRanges[${i}]: endIpAddress is before startIpAddress`);
    if (!inScope(start, end)) throw badRequest(`ipRanges[${i}] ${formatIPv4(start)}-${formatIPv4(end)} is not inside the internal scope`);
    const old = existing?.ranges.find((x) => x.start === start && x.end === end);
    return { id: old?.id ?? randomUUID(), start, end, cursor: old?.cursor ?? start };
  });
  for (let i = 0; i < ranges.length; i++)
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i] as IpRangeRec;
      const c = ranges[j] as IpRangeRec;
      if (a.start <= c.end && c.start <= a.end) throw badRequest('IP ranges must not overlap');
    }

  const defaultQuota = type === 'PRIVATE' ? -1 : 1;
  const defaultFloatingIpQuota = int(rangesIn['defaultFloatingIpQuota'], 'defaultFloatingIpQuota', defaultQuota);

  const prefixesIn = b['ipSpacePrefixes'] ?? [];
  if (!Array.isArray(prefixesIn)) throw badRequest('ipSpacePrefixes must be a list');
  const prefixGroups = prefixesIn.map((g, gi) => {
    const go = obj(g, `ipSpacePrefixes[${gi}]`);
    const seqIn = go['ipPrefixSequence'];
    if (!Array.isArray(seqIn) || seqIn.length === 0) throw badRequest(`ipSpacePrefixes[${gi}].ipPrefixSequence must not be empty`);
    const sequences: PrefixSeqRec[] = seqIn.map((s, si) => {
      const so = obj(s, `ipPrefixSequence[${si}]`);
      const where = `ipSpacePrefixes[${gi}].ipPrefixSequence[${si}]`;
      const prefixLength = int(so['prefixLength'], `${where}.prefixLength`);
      if (prefixLength < 1 || prefixLength > 32) throw badRequest(`${where}.prefixLength must be 1..32 for IPv4`);
      const count = int(so['totalPrefixCount'], `${where}.totalPrefixCount`);
      if (count < 1) throw badRequest(`${where}.totalPrefixCount must be at least 1`);
      // VCD normalises a host address to its network address.
      const start = networkOf(ipv4(so['startingPrefixIpAddress'], `${where}.startingPrefixIpAddress`), prefixLength);
      const last = start + count * cidrSize(prefixLength) - 1;
      if (!inScope(start, last)) throw badRequest(`${where} is not inside the internal scope`);
      const old = existing?.prefixGroups.flatMap((x) => x.sequences).find((x) => x.start === start && x.prefixLength === prefixLength);
      return { id: old?.id ?? randomUUID(), start, prefixLength, count, cursor: old?.cursor ?? 0 };
    });
    const lengths = new Set(sequences.map((s) => s.prefixLength));
    if (lengths.size !== 1) throw badRequest(`ipSpacePrefixes[${gi}]: all sequences of a group must have one prefix length`);
    return { sequences, defaultQuota: int(go['defaultQuotaForPrefixLength'], 'defaultQuotaForPrefixLength', type === 'PRIVATE' ? -1 : 0) };
  });

  if (existing) {
    for (const a of existing.allocations.values()) {
      const covered =
        a.type === 'FLOATING_IP'
          ? ranges.some((r) => a.first >= r.start && a.first <= r.end)
          : prefixGroups.some((g) =>
              g.sequences.some((s) => s.prefixLength === a.prefixLength && a.first >= s.start && a.first < s.start + s.count * cidrSize(s.prefixLength)),
            );
      if (!covered) throw badRequest(`The allocated value ${a.value} would fall outside the IP Space's ranges or prefixes`);
    }
  }
  const out: Omit<IpSpaceRec, 'id' | 'allocations' | 'byValue' | 'usage' | 'busy'> = {
    name,
    description: typeof b['description'] === 'string' ? b['description'] : '',
    type,
    internalScope: scopes.map(formatCidr),
    routeAdvertisementEnabled: b['routeAdvertisementEnabled'] === true,
    ranges,
    defaultFloatingIpQuota,
    prefixGroups,
  };
  if (orgId) out.orgId = orgId;
  if (externalScope) out.externalScope = externalScope;
  // Clients below 38.0 do not know the field; their writes leave it as it was.
  const gsc = atLeast(version, '38.0') ? b['defaultGatewayServiceConfig'] : undefined;
  if (gsc !== undefined && gsc !== null) {
    const g = obj(gsc, 'defaultGatewayServiceConfig');
    out.defaultGatewayServiceConfig = {
      enableDefaultFirewallRuleCreation: g['enableDefaultFirewallRuleCreation'] === true,
      enableDefaultNoSnatRuleCreation: g['enableDefaultNoSnatRuleCreation'] === true,
      enableDefaultSnatRuleCreation: g['enableDefaultSnatRuleCreation'] === true,
    };
  } else if (existing?.defaultGatewayServiceConfig) out.defaultGatewayServiceConfig = existing.defaultGatewayServiceConfig;
  return out;
}

export function newIpSpace(id: string, fields: ReturnType<typeof parseIpSpace>): IpSpaceRec {
  return { id, ...fields, allocations: new Map(), byValue: new Map(), usage: new Map() };
}

/** The quota in force for an org: its custom quota, else the IP Space default; -1 is unlimited. */
export function effectiveQuota(state: VcdState, space: IpSpaceRec, orgId: string, type: AllocationType, prefixLength?: number): number {
  if (space.type === 'PRIVATE') return -1;
  const a = state.assignmentFor(space.id, orgId);
  if (type === 'FLOATING_IP') return a?.customFloatingIpQuota ?? space.defaultFloatingIpQuota;
  const custom = a?.customPrefixQuotas?.get(prefixLength ?? -1);
  if (custom !== undefined) return custom;
  return space.prefixGroups.find((g) => g.sequences[0]?.prefixLength === prefixLength)?.defaultQuota ?? 0;
}

export function usageOf(space: IpSpaceRec, orgId: string): OrgUsage {
  let u = space.usage.get(orgId);
  if (!u) {
    u = { floating: 0, prefixes: new Map() };
    space.usage.set(orgId, u);
  }
  return u;
}

export interface AllocateRequest {
  type: AllocationType;
  quantity?: number;
  prefixLength?: number;
  value?: string;
}

export function parseAllocateRequest(body: unknown, valueAllowed: boolean): AllocateRequest {
  const b = obj(body, 'body');
  const type = str(b['type'], 'type');
  if (type !== 'FLOATING_IP' && type !== 'IP_PREFIX') throw badRequest('type must be FLOATING_IP or IP_PREFIX');
  const out: AllocateRequest = { type };
  if (b['value'] !== undefined && b['value'] !== null) {
    if (!valueAllowed) throw badRequest('value is supported from API version 37.2');
    if (b['quantity'] !== undefined && b['quantity'] !== null) throw badRequest('value and quantity must not be set together');
    out.value = str(b['value'], 'value');
    return out;
  }
  const quantity = int(b['quantity'], 'quantity', 1);
  if (quantity < 1 || quantity > 5) throw badRequest('quantity must be between 1 and 5');
  out.quantity = quantity;
  if (type === 'IP_PREFIX') {
    const len = int(b['prefixLength'], 'prefixLength (required for IP_PREFIX with quantity)');
    if (len < 1 || len > 128) throw badRequest('prefixLength must be 1..128');
    out.prefixLength = len;
  }
  return out;
}

/** An allocation failure reported through the task (VCD validates pools and quota in the task). */
export class AllocationFailure extends Error {
  readonly minorErrorCode: string;
  constructor(minorErrorCode: string, message: string) {
    super(message);
    this.name = 'AllocationFailure';
    this.minorErrorCode = minorErrorCode;
  }
}

interface Candidate {
  value: string;
  first: number;
  prefixLength?: number;
  advance?: () => void;
}

/** Picks the values for a request without committing anything; throws AllocationFailure. */
export function pickValues(space: IpSpaceRec, req: AllocateRequest): Candidate[] {
  if (req.value !== undefined) return pickExplicit(space, req.type, req.value);
  const n = req.quantity ?? 1;
  const out: Candidate[] = [];
  const taken = new Set<string>();
  if (req.type === 'FLOATING_IP') {
    for (const r of space.ranges) {
      const size = r.end - r.start + 1;
      for (let i = 0; i < size && out.length < n; i++) {
        const ip = r.start + ((r.cursor - r.start + i) % size);
        const v = formatIPv4(ip);
        if (space.byValue.has(v) || taken.has(v)) continue;
        taken.add(v);
        out.push({ value: v, first: ip, advance: () => (r.cursor = ip + 1 > r.end ? r.start : ip + 1) });
      }
      if (out.length >= n) break;
    }
    if (out.length < n) throw new AllocationFailure('BAD_REQUEST', `The IP Space ${space.name} does not have ${n} free floating IP address(es).`);
    return out;
  }
  const len = req.prefixLength as number;
  const seqs = space.prefixGroups.flatMap((g) => g.sequences).filter((s) => s.prefixLength === len);
  if (seqs.length === 0) throw new AllocationFailure('BAD_REQUEST', `The IP Space ${space.name} has no prefixes of length /${len}.`);
  for (const s of seqs) {
    const size = cidrSize(len);
    for (let i = 0; i < s.count && out.length < n; i++) {
      const idx = (s.cursor + i) % s.count;
      const first = s.start + idx * size;
      const v = formatCidr({ network: first, prefixLength: len });
      if (space.byValue.has(v) || taken.has(v)) continue;
      taken.add(v);
      out.push({ value: v, first, prefixLength: len, advance: () => (s.cursor = (idx + 1) % s.count) });
    }
    if (out.length >= n) break;
  }
  if (out.length < n) throw new AllocationFailure('BAD_REQUEST', `The IP Space ${space.name} does not have ${n} free /${len} prefix(es).`);
  return out;
}

function pickExplicit(space: IpSpaceRec, type: AllocationType, value: string): Candidate[] {
  if (isIPv6(value)) throw new AllocationFailure('BAD_REQUEST', 'the simulator supports IPv4 IP Spaces only');
  const out: Candidate[] = [];
  const taken = (v: string): never => {
    throw new AllocationFailure('BAD_REQUEST', `The value ${v} is already allocated in IP Space ${space.name}.`);
  };
  if (type === 'FLOATING_IP') {
    const [a, b] = value.split('-');
    const start = parseIPv4(a ?? '');
    const end = b === undefined ? start : parseIPv4(b);
    if (start === undefined || end === undefined || end < start) throw new AllocationFailure('BAD_REQUEST', `${value} is not an IP address or range`);
    if (end - start >= 256) throw new AllocationFailure('BAD_REQUEST', `The range ${value} is too large`);
    for (let ip = start; ip <= end; ip++) {
      if (!space.ranges.some((r) => ip >= r.start && ip <= r.end)) {
        throw new AllocationFailure('BAD_REQUEST', `${formatIPv4(ip)} is not inside an IP range of IP Space ${space.name}.`);
      }
      const v = formatIPv4(ip);
      if (space.byValue.has(v)) taken(v);
      out.push({ value: v, first: ip });
    }
    return out;
  }
  const c = parseCidr(value);
  if (!c || !value.includes('/')) throw new AllocationFailure('BAD_REQUEST', `${value} is not a CIDR`);
  const fits = space.prefixGroups
    .flatMap((g) => g.sequences)
    .some(
      (s) =>
        s.prefixLength === c.prefixLength &&
        c.network >= s.start &&
        c.network < s.start + s.count * cidrSize(s.prefixLength) &&
        (c.network - s.start) % cidrSize(s.prefixLength) === 0,
    );
  if (!fits) throw new AllocationFailure('BAD_REQUEST', `${value} is not one of the prefixes of IP Space ${space.name}.`);
  const v = formatCidr(c);
  if (space.byValue.has(v)) taken(v);
  return [{ value: v, first: c.network, prefixLength: c.prefixLength }];
}

export function checkQuota(state: VcdState, space: IpSpaceRec, orgId: string, req: AllocateRequest, count: number, prefixLength?: number): void {
  const quota = effectiveQuota(state, space, orgId, req.type, prefixLength);
  if (quota < 0) return;
  const u = usageOf(space, orgId);
  const used = req.type === 'FLOATING_IP' ? u.floating : (u.prefixes.get(prefixLength ?? -1) ?? 0);
  if (used + count > quota) {
    const what = req.type === 'FLOATING_IP' ? 'floating IP' : `/${prefixLength} prefix`;
    throw new AllocationFailure(
      'BAD_REQUEST',
      `Cannot allocate ${count} ${what}(s) in IP Space ${space.name}: the organization ${state.orgName(orgId)} has used ${used} of its quota of ${quota}.`,
    );
  }
}

export function commitAllocations(space: IpSpaceRec, orgId: string, type: AllocationType, picks: Candidate[], now: number): AllocationRec[] {
  const u = usageOf(space, orgId);
  return picks.map((p) => {
    p.advance?.();
    const a: AllocationRec = {
      id: urn('ipSpaceIpAllocation'),
      ipSpaceId: space.id,
      type,
      value: p.value,
      first: p.first,
      orgId,
      usageState: 'UNUSED',
      description: '',
      allocationDate: new Date(now).toISOString(),
    };
    if (p.prefixLength !== undefined) a.prefixLength = p.prefixLength;
    space.allocations.set(a.id, a);
    space.byValue.set(a.value, a);
    if (type === 'FLOATING_IP') u.floating += 1;
    else u.prefixes.set(a.prefixLength as number, (u.prefixes.get(a.prefixLength as number) ?? 0) + 1);
    return a;
  });
}

export function releaseAllocation(space: IpSpaceRec, a: AllocationRec): void {
  space.allocations.delete(a.id);
  space.byValue.delete(a.value);
  const u = usageOf(space, a.orgId);
  if (a.type === 'FLOATING_IP') u.floating -= 1;
  else u.prefixes.set(a.prefixLength as number, (u.prefixes.get(a.prefixLength as number) ?? 1) - 1);
}

function pct(part: number, whole: number): number {
  return whole <= 0 ? 0 : Math.round((part / whole) * 10000) / 100;
}

/**
 * Utilization as VCD reports it: counts are strings; for a tenant the total is its quota ("-1"
 * when uncapped) and the counts are its own.
 */
export function utilization(state: VcdState, space: IpSpaceRec, viewerOrgId: string | undefined): Record<string, unknown> {
  const mine = (a: AllocationRec): boolean => viewerOrgId === undefined || a.orgId === viewerOrgId;
  let fAlloc = 0;
  let fUsed = 0;
  const pAlloc = new Map<number, number>();
  let pUsed = 0;
  let pAllocTotal = 0;
  for (const a of space.allocations.values()) {
    if (!mine(a)) continue;
    const used = a.usageState !== 'UNUSED';
    if (a.type === 'FLOATING_IP') {
      fAlloc++;
      if (used) fUsed++;
    } else {
      pAllocTotal++;
      if (used) pUsed++;
      pAlloc.set(a.prefixLength as number, (pAlloc.get(a.prefixLength as number) ?? 0) + 1);
    }
  }
  const rangeTotal = space.ranges.reduce((n, r) => n + (r.end - r.start + 1), 0);
  const fTotal = viewerOrgId === undefined ? rangeTotal : effectiveQuota(state, space, viewerOrgId, 'FLOATING_IP');
  const lengths = [...new Set(space.prefixGroups.flatMap((g) => g.sequences.map((s) => s.prefixLength)))];
  const prefixLengthUtilizations = lengths.map((len) => {
    const capacity = space.prefixGroups
      .flatMap((g) => g.sequences)
      .filter((s) => s.prefixLength === len)
      .reduce((n, s) => n + s.count, 0);
    return {
      prefixLength: len,
      totalCount: viewerOrgId === undefined ? capacity : effectiveQuota(state, space, viewerOrgId, 'IP_PREFIX', len),
      allocatedCount: pAlloc.get(len) ?? 0,
    };
  });
  const pTotal = prefixLengthUtilizations.some((p) => p.totalCount < 0) ? -1 : prefixLengthUtilizations.reduce((n, p) => n + p.totalCount, 0);
  return {
    floatingIPs: {
      totalCount: String(fTotal),
      allocatedCount: String(fAlloc),
      usedCount: String(fUsed),
      unusedCount: String(fAlloc - fUsed),
      allocatedPercentage: pct(fAlloc, fTotal),
      usedPercentage: pct(fUsed, fTotal),
    },
    ipPrefixes: {
      totalCount: String(pTotal),
      allocatedCount: String(pAllocTotal),
      usedCount: String(pUsed),
      unusedCount: String(pAllocTotal - pUsed),
      allocatedPercentage: pct(pAllocTotal, pTotal),
      usedPercentage: pct(pUsed, pTotal),
      prefixLengthUtilizations,
    },
  };
}
