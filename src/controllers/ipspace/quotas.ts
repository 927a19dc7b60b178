// Per-org custom quotas: which org assignment an orgQuotas entry means, the customQuotas it asks
// for, and whether VCD already holds them. Pure. VCD resets every value left out of customQuotas
// to the IP Space default, so "unset" in the spec and "absent" in VCD are the same thing.
import type { CloudRef, IPSpaceSpec } from '../../api/index.ts';
import type { IpSpaceIpQuota, IpSpaceOrgAssignment } from '../../clients/vcd/index.ts';

export type OrgQuotaSpec = NonNullable<IPSpaceSpec['orgQuotas']>[number];

/** customQuotas for the entry; null when it overrides nothing (VCD then applies the defaults). */
export function desiredCustomQuotas(q: OrgQuotaSpec): IpSpaceIpQuota | null {
  if (q.floatingIPs === undefined && !q.prefixes?.length) return null;
  const out: IpSpaceIpQuota = {};
  if (q.floatingIPs !== undefined) out.floatingIpQuota = q.floatingIPs;
  out.ipPrefixQuotas = (q.prefixes ?? []).map((p) => ({ prefixLength: p.prefixLength, quota: p.quota }));
  return out;
}

function canonical(q: IpSpaceIpQuota | null | undefined): string {
  const prefixes = (q?.ipPrefixQuotas ?? [])
    .filter((p) => p.quota !== undefined && p.quota !== null)
    .map((p) => `${p.prefixLength}=${p.quota}`)
    .sort();
  const floating = q?.floatingIpQuota ?? null;
  return floating === null && prefixes.length === 0 ? '' : JSON.stringify([floating, prefixes]);
}

export function sameQuotas(a: IpSpaceIpQuota | null | undefined, b: IpSpaceIpQuota | null | undefined): boolean {
  return canonical(a) === canonical(b);
}

export function refMatches(ref: CloudRef, entity: { id?: string; name?: string } | undefined): boolean {
  if (!entity) return false;
  return ref.id !== undefined ? ref.id === entity.id : ref.name !== undefined && ref.name === entity.name;
}

export function describeRef(ref: CloudRef): string {
  return ref.id ?? ref.name ?? '(unnamed)';
}

export interface QuotaPlan {
  /** Assignments whose customQuotas must be written, with what. */
  updates: { assignment: IpSpaceOrgAssignment; customQuotas: IpSpaceIpQuota | null; org: string }[];
  /** orgQuotas entries whose org has no assignment on this IP Space yet. */
  waiting: string[];
}

/**
 * What to write so the assignments hold the spec's quotas. Orgs not listed in orgQuotas get their
 * custom quotas reset, but only when orgQuotas is set at all: an absent list leaves quotas alone.
 */
export function planQuotas(orgQuotas: IPSpaceSpec['orgQuotas'], assignments: IpSpaceOrgAssignment[]): QuotaPlan {
  const plan: QuotaPlan = { updates: [], waiting: [] };
  if (orgQuotas === undefined) return plan;
  const claimed = new Set<IpSpaceOrgAssignment>();
  for (const q of orgQuotas) {
    const a = assignments.find((x) => refMatches(q.org, x.orgRef));
    if (!a) {
      plan.waiting.push(describeRef(q.org));
      continue;
    }
    claimed.add(a);
    const want = desiredCustomQuotas(q);
    if (!sameQuotas(want, a.customQuotas)) plan.updates.push({ assignment: a, customQuotas: want, org: a.orgRef.name ?? describeRef(q.org) });
  }
  for (const a of assignments) {
    if (claimed.has(a) || sameQuotas(null, a.customQuotas)) continue;
    plan.updates.push({ assignment: a, customQuotas: null, org: a.orgRef.name ?? a.orgRef.id ?? '(unknown org)' });
  }
  return plan;
}
