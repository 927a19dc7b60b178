// What to do for all claims of one IP Space (one org, one allocation type), given what VCD holds.
// Pure: the reconciler gathers the inputs (claims from the cache, allocations from one list call),
// this decides, the reconciler executes. Keeping the decision pure is what lets tests cover every
// crash point of allocate-then-mark without a cloud.
import { parseMarker } from '../../reconcile/index.ts';

export type ClaimKind = 'FloatingIPClaim' | 'IPPrefixClaim';

export interface ClaimView {
  uid: string;
  namespace: string;
  name: string;
  deleting: boolean;
  reclaimPolicy: 'Delete' | 'Retain';
  /** A specific address or CIDR the user asked for. */
  requestedValue?: string;
  /** Prefix length for IP_PREFIX claims without a requested CIDR. */
  prefixLength?: number;
  /** Set before an allocate call whose outcome may be lost (the create-pending guard). */
  pendingSince?: Date;
  /** The allocation the claim's status names, to break ties between duplicates. */
  statusAllocationId?: string;
}

export interface AllocationView {
  id: string;
  value: string;
  usageState: string;
  description?: string;
  allocationDate?: Date;
}

export type Action =
  /** The claim's allocation exists and is marked: report it. */
  | { kind: 'bind'; claim: ClaimView; allocation: AllocationView }
  /** An unmarked allocation made for this claim before a crash or a lost response: mark it, then bind. */
  | { kind: 'adopt'; claim: ClaimView; allocation: AllocationView }
  /** New allocations for up to five claims in one call. */
  | { kind: 'allocate'; claims: ClaimView[]; prefixLength?: number }
  /** One allocation of a specific address or CIDR. */
  | { kind: 'allocateValue'; claim: ClaimView; value: string }
  /** Give an allocation back to the IP Space (claim deleted with Delete, or a duplicate). */
  | { kind: 'release'; allocation: AllocationView; claim?: ClaimView; reason: 'Deleted' | 'Duplicate' | 'Orphaned' }
  /** Keep the allocation in VCD but flag its marker as retained, so nothing collects it later. */
  | { kind: 'retain'; claim: ClaimView; allocation: AllocationView }
  /** Nothing (more) to do in VCD for a deleted claim: drop the finalizer. */
  | { kind: 'finalize'; claim: ClaimView }
  /** An earlier allocate may still complete; do not allocate again before `until`. */
  | { kind: 'wait'; claim: ClaimView; until: Date };

export interface PlanInput {
  clusterId: string;
  kind: ClaimKind;
  claims: ClaimView[];
  allocations: AllocationView[];
  /**
   * UIDs of every claim of this kind the operator can see (all groups, all watched namespaces).
   * Another group may share this IP Space through another connection, so "not in this group"
   * does not mean "gone".
   */
  liveClaimUids: ReadonlySet<string>;
  /** Whether the operator watches this namespace; claims outside its scope are never judged gone. */
  namespaceInScope: (namespace: string) => boolean;
  now: Date;
  /** How long an allocate whose answer was lost may still complete (the task deadline). */
  pendingWindowMs: number;
  /**
   * VCD's task records say no allocate on this IP Space since the oldest guard is still running,
   * and the allocations were listed after that: a guarded claim with no allocation was never
   * served, so it is allocated again at once instead of waiting out the window.
   */
  outcomesKnown?: boolean;
  /**
   * The allocations VCD's allocate tasks made since the oldest guard (their task results). When
   * given, only these are adopted by guarded claims: an unmarked allocation someone else made in
   * the same moments is never taken for ours. Absent (VCD cannot tell): any unmarked allocation
   * made after the guard is a candidate, as the last resort.
   */
  adoptable?: ReadonlySet<string>;
  /** Clock skew tolerated between this host and VCD when matching allocation dates. */
  skewMs?: number;
  maxBatch?: number;
}

function prefixLengthOf(value: string): number | undefined {
  const slash = value.indexOf('/');
  return slash < 0 ? undefined : Number(value.slice(slash + 1));
}

function sameValue(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

export function plan(input: PlanInput): Action[] {
  const { clusterId, kind, claims, now } = input;
  const skewMs = input.skewMs ?? 5000;
  const maxBatch = input.maxBatch ?? 5;
  const actions: Action[] = [];

  // Ours, by claim UID; unmarked ones are candidates only for claims with a pending allocate.
  const ours = new Map<string, AllocationView[]>();
  const unmarked: AllocationView[] = [];
  for (const a of input.allocations) {
    const marker = parseMarker(a.description);
    if (marker) {
      if (marker.clusterId !== clusterId || marker.kind !== kind || marker.retained) continue;
      if (!input.liveClaimUids.has(marker.uid)) {
        // A marked allocation whose claim is gone (finalizer removed by force): give it back.
        if (input.namespaceInScope(marker.namespace ?? '')) actions.push({ kind: 'release', allocation: a, reason: 'Orphaned' });
        continue;
      }
      const list = ours.get(marker.uid) ?? [];
      list.push(a);
      ours.set(marker.uid, list);
    } else if (a.usageState === 'UNUSED' && !a.description) {
      unmarked.push(a);
    }
  }
  unmarked.sort((x, y) => (x.allocationDate?.getTime() ?? 0) - (y.allocationDate?.getTime() ?? 0));
  const taken = new Set<string>();
  // An unmarked allocation a claim's status names is that claim's (its marking task had not ended
  // when the status was written): no other guarded claim may adopt it, whatever the claims' order.
  const namedBy = new Map<string, string>();
  for (const c of claims) if (c.statusAllocationId) namedBy.set(c.statusAllocationId, c.uid);
  const stillPending = (c: ClaimView): boolean => !!c.pendingSince && !input.outcomesKnown && now.getTime() - c.pendingSince.getTime() < input.pendingWindowMs;

  const toAllocate: ClaimView[] = [];
  for (const claim of claims) {
    const mine = ours.get(claim.uid) ?? [];
    // Keep one: the one status names, else the oldest; any other is a duplicate to release.
    const keep =
      mine.find((a) => a.id === claim.statusAllocationId) ??
      [...mine].sort((x, y) => (x.allocationDate?.getTime() ?? 0) - (y.allocationDate?.getTime() ?? 0))[0];
    for (const a of mine) if (a !== keep) actions.push({ kind: 'release', allocation: a, claim, reason: 'Duplicate' });

    let allocation = keep;
    let adopted = false;
    // The allocation the claim's status names, found unmarked: a release or an edit in VCD that
    // stopped half-way. It is still the claim's: mark it again (or release it, when deleting).
    const named = !allocation && claim.statusAllocationId ? unmarked.find((a) => a.id === claim.statusAllocationId && !taken.has(a.id)) : undefined;
    if (named) {
      allocation = named;
      taken.add(named.id);
      adopted = true;
    }
    if (!allocation && claim.pendingSince) {
      const since = claim.pendingSince.getTime() - skewMs;
      allocation = unmarked.find(
        (a) =>
          !taken.has(a.id) &&
          (namedBy.get(a.id) ?? claim.uid) === claim.uid &&
          (input.adoptable ? input.adoptable.has(a.id) : (a.allocationDate?.getTime() ?? 0) >= since) &&
          (claim.requestedValue ? sameValue(a.value, claim.requestedValue) : true) &&
          (claim.prefixLength === undefined || prefixLengthOf(a.value) === claim.prefixLength),
      );
      if (allocation) {
        taken.add(allocation.id);
        adopted = true;
      }
    }

    if (claim.deleting) {
      if (allocation) {
        if (claim.reclaimPolicy === 'Retain') actions.push({ kind: 'retain', claim, allocation });
        else actions.push({ kind: 'release', allocation, claim, reason: 'Deleted' });
      } else if (stillPending(claim)) {
        actions.push({ kind: 'wait', claim, until: new Date((claim.pendingSince?.getTime() ?? 0) + input.pendingWindowMs) });
      } else {
        actions.push({ kind: 'finalize', claim });
      }
      continue;
    }

    if (allocation) {
      actions.push(adopted ? { kind: 'adopt', claim, allocation } : { kind: 'bind', claim, allocation });
    } else if (stillPending(claim)) {
      actions.push({ kind: 'wait', claim, until: new Date((claim.pendingSince?.getTime() ?? 0) + input.pendingWindowMs) });
    } else if (claim.requestedValue) {
      actions.push({ kind: 'allocateValue', claim, value: claim.requestedValue });
    } else {
      toAllocate.push(claim);
    }
  }

  for (const b of batchesOf(toAllocate, maxBatch)) actions.push({ kind: 'allocate', ...b });
  return actions;
}

/** Allocate calls for claims that need a fresh allocation: by prefix length, oldest first, up to maxBatch each. */
export function batchesOf(toAllocate: readonly ClaimView[], maxBatch = 5): { claims: ClaimView[]; prefixLength?: number }[] {
  // Batch by prefix length (all undefined for floating IPs), oldest claims first.
  const groups = new Map<number | undefined, ClaimView[]>();
  for (const c of toAllocate) {
    const g = groups.get(c.prefixLength) ?? [];
    g.push(c);
    groups.set(c.prefixLength, g);
  }
  const out: { claims: ClaimView[]; prefixLength?: number }[] = [];
  for (const [prefixLength, group] of groups) {
    for (let i = 0; i < group.length; i += maxBatch) {
      const claims = group.slice(i, i + maxBatch);
      out.push(prefixLength === undefined ? { claims } : { claims, prefixLength });
    }
  }
  return out;
}
