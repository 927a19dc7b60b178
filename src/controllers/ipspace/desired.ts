// What VCD should hold for an IPSpace spec, and what differs from what it holds. Pure: the
// controller resolves ids (org, marker) first and passes them in. Values VCD normalises (CIDRs,
// IPv6 spelling, a prefix start with host bits) are compared in canonical form, so a spec that VCD
// stores differently does not look like drift on every check.
import { VCD_IP_SPACE_TYPE, ip, type IPSpaceSpec } from '../../api/index.ts';
import type { IpSpace, IpSpacePrefixes, IpSpaceRange } from '../../clients/vcd/index.ts';

export interface DesiredInputs {
  /** The name in VCD (spec.name, else metadata.name). */
  name: string;
  /** The whole description to write, marker line included. */
  description: string;
  /** The owning org's id, for a Private IP Space. */
  orgId?: string;
}

/** Quotas VCD applies when none is given: -1 (unlimited) for Private, else 1 floating IP and 0 prefixes. */
export function defaultQuotas(type: IPSpaceSpec['type']): { floatingIPs: number; prefixes: number } {
  return type === 'Private' ? { floatingIPs: -1, prefixes: -1 } : { floatingIPs: 1, prefixes: 0 };
}

function prefixLengthOf(startCIDR: string): number {
  return ip.parseCIDR(startCIDR)?.prefixLength ?? 0;
}

function addressOf(startCIDR: string): string {
  const slash = startCIDR.indexOf('/');
  return slash < 0 ? startCIDR : startCIDR.slice(0, slash);
}

/** The IpSpace body for the spec (without read-only fields and without ids). */
export function desiredIpSpace(spec: IPSpaceSpec, inputs: DesiredInputs): IpSpace {
  const defaults = defaultQuotas(spec.type);
  const prefixQuota = (length: number): number => spec.defaultQuotas?.prefixes?.find((q) => q.prefixLength === length)?.quota ?? defaults.prefixes;
  // Sequences of one prefix length form one pool in VCD: one ipSpacePrefixes entry per length.
  const byLength = new Map<number, IpSpacePrefixes>();
  for (const p of spec.prefixSequences ?? []) {
    const prefixLength = prefixLengthOf(p.startCIDR);
    let group = byLength.get(prefixLength);
    if (!group) {
      group = { ipPrefixSequence: [], defaultQuotaForPrefixLength: prefixQuota(prefixLength) };
      byLength.set(prefixLength, group);
    }
    group.ipPrefixSequence.push({ startingPrefixIpAddress: addressOf(p.startCIDR), prefixLength, totalPrefixCount: p.count });
  }
  const body: IpSpace = {
    name: inputs.name,
    description: inputs.description,
    type: VCD_IP_SPACE_TYPE[spec.type],
    ipSpaceInternalScope: [...spec.internalScope],
    ipSpacePrefixes: [...byLength.values()],
    routeAdvertisementEnabled: spec.routeAdvertisementEnabled ?? false,
  };
  // VCD wants at least one range when ipSpaceRanges is present; without ranges a floating-IP quota means nothing.
  if (spec.ipRanges?.length) {
    body.ipSpaceRanges = {
      ipRanges: spec.ipRanges.map((r) => ({ startIpAddress: r.start, endIpAddress: r.end })),
      defaultFloatingIpQuota: spec.defaultQuotas?.floatingIPs ?? defaults.floatingIPs,
    };
  }
  if (spec.externalScope !== undefined) body.ipSpaceExternalScope = spec.externalScope;
  if (inputs.orgId !== undefined) body.orgRef = { id: inputs.orgId };
  return body;
}

// --- comparison ---------------------------------------------------------------------------------

function canonicalIP(s: string): string {
  const a = ip.parseIP(s);
  return a ? ip.formatIP(a) : s;
}

function canonicalCIDR(s: string): string {
  const c = ip.parseCIDR(s);
  return c ? ip.formatCIDR(ip.masked(c)) : s;
}

/** A prefix sequence's start as VCD stores it: the network address of its prefix length. */
function canonicalPrefixStart(address: string, prefixLength: number): string {
  return canonicalCIDR(`${address}/${prefixLength}`);
}

const rangeKey = (r: Pick<IpSpaceRange, 'startIpAddress' | 'endIpAddress'>): string => `${canonicalIP(r.startIpAddress)}-${canonicalIP(r.endIpAddress)}`;

function sequenceKeys(groups: IpSpacePrefixes[] | undefined): string[] {
  return (groups ?? [])
    .flatMap((g) => g.ipPrefixSequence.map((s) => `${canonicalPrefixStart(s.startingPrefixIpAddress, s.prefixLength)}x${s.totalPrefixCount}`))
    .sort();
}

function poolQuotas(groups: IpSpacePrefixes[] | undefined, fallback: number): string[] {
  const out = new Map<number, number>();
  for (const g of groups ?? []) {
    const length = g.ipPrefixSequence[0]?.prefixLength;
    if (length !== undefined) out.set(length, g.defaultQuotaForPrefixLength ?? fallback);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([l, q]) => `/${l}=${q}`);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The fields (by their spec names) in which VCD's IP Space differs from the desired body; empty
 * when nothing needs writing. `type` is the spec's type, for VCD's implicit quota defaults.
 */
export function diffIpSpace(desired: IpSpace, current: IpSpace, type: IPSpaceSpec['type']): string[] {
  const fallback = defaultQuotas(type);
  const out: string[] = [];
  if (desired.name !== current.name) out.push('name');
  if ((desired.description ?? '') !== (current.description ?? '')) out.push('description');
  if (desired.type !== current.type) out.push('type');
  if (!sameList(desired.ipSpaceInternalScope.map(canonicalCIDR).sort(), (current.ipSpaceInternalScope ?? []).map(canonicalCIDR).sort()))
    out.push('internalScope');
  const ext = (s: IpSpace): string => (s.ipSpaceExternalScope ? canonicalCIDR(s.ipSpaceExternalScope) : '');
  if (ext(desired) !== ext(current)) out.push('externalScope');
  const ranges = (s: IpSpace): string[] => (s.ipSpaceRanges?.ipRanges ?? []).map(rangeKey).sort();
  if (!sameList(ranges(desired), ranges(current))) out.push('ipRanges');
  if (!sameList(sequenceKeys(desired.ipSpacePrefixes), sequenceKeys(current.ipSpacePrefixes))) out.push('prefixSequences');
  const floatingQuotaDiffers =
    desired.ipSpaceRanges !== undefined &&
    (desired.ipSpaceRanges.defaultFloatingIpQuota ?? fallback.floatingIPs) !== (current.ipSpaceRanges?.defaultFloatingIpQuota ?? fallback.floatingIPs);
  if (floatingQuotaDiffers || !sameList(poolQuotas(desired.ipSpacePrefixes, fallback.prefixes), poolQuotas(current.ipSpacePrefixes, fallback.prefixes))) {
    out.push('defaultQuotas');
  }
  if ((desired.routeAdvertisementEnabled ?? false) !== (current.routeAdvertisementEnabled ?? false)) out.push('routeAdvertisementEnabled');
  return out;
}

/**
 * The body of a PUT: the desired object with the ids VCD gave the ranges and sequences that stay,
 * so they keep their identity (and their allocations' bookkeeping) across the update.
 */
export function updateBody(desired: IpSpace, current: IpSpace): IpSpace {
  const rangeIds = new Map((current.ipSpaceRanges?.ipRanges ?? []).filter((r) => r.id).map((r) => [rangeKey(r), r.id]));
  const seqIds = new Map(
    (current.ipSpacePrefixes ?? [])
      .flatMap((g) => g.ipPrefixSequence)
      .filter((s) => s.id)
      .map((s) => [canonicalPrefixStart(s.startingPrefixIpAddress, s.prefixLength), s.id]),
  );
  const body: IpSpace = structuredClone(desired);
  if (current.orgRef && body.type === 'PRIVATE') body.orgRef = current.orgRef;
  for (const r of body.ipSpaceRanges?.ipRanges ?? []) {
    const id = rangeIds.get(rangeKey(r));
    if (id) r.id = id;
  }
  for (const s of (body.ipSpacePrefixes ?? []).flatMap((g) => g.ipPrefixSequence)) {
    const id = seqIds.get(canonicalPrefixStart(s.startingPrefixIpAddress, s.prefixLength));
    if (id) s.id = id;
  }
  return body;
}
