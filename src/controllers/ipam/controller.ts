// FloatingIPClaim and IPPrefixClaim. The key is the allocation group (connection, org, IP Space):
// one reconcile reads every claim of the group from the cache and the group's allocations from
// VCD once, plans (plan.ts) and carries the plan out: pending claims share allocate calls of up to
// five, each result is marked USED_MANUAL with the claim's marker, deleted claims give their
// allocation back. A create-pending annotation, set before every allocate, lets a later reconcile
// tell its own unmarked allocations (after a crash or a lost response) from anyone else's.
import {
  FloatingIPClaimResource,
  IPPrefixClaimResource,
  Reasons,
  validateFloatingIPClaim,
  validateIPPrefixClaim,
  VCDConnectionResource,
  ClusterVCDConnectionResource,
  type Reason,
  type Validator,
} from '../../api/index.ts';
import {
  atLeast,
  CloudNetworkError,
  UnsupportedApiVersionError,
  VcdApiError,
  VcdBusyError,
  VcdNotFoundError,
  VcdTaskError,
  VcdQuotaExceededError,
  VcdTaskTimeoutError,
  type AllocationResult,
  type AllocationType,
  type VcdClient,
} from '../../clients/vcd/index.ts';
import { objectKey, type ControllerDefinition, type KubeObject, type ReconcileContext, type ReconcileResult } from '../../runtime/index.ts';
import { NamespaceResource } from '../connections/controller.ts';
import type { Connection } from '../connections/pool.ts';
import type { ControllerDeps } from '../deps.ts';
import { connectionKeyOf, groupKeyOf, type Claim } from './group.ts';
import { formatMarker, type ClaimKind } from './marker.ts';
import { plan, type Action, type AllocationView, type ClaimView } from './plan.ts';

export const CLAIM_FINALIZER = 'vcd-operator.io/allocation';
export const PENDING_ANNOTATION = 'vcd-operator.io/allocation-pending';

const BY_GROUP = 'byGroup';
const BY_CONNECTION = 'byConnection';
/** How long a resolved IP Space id is trusted before it is looked up again. */
const SPACE_TTL_MS = 5 * 60_000;
/** How soon a claim stuck on quota or a missing IP Space is tried again without any event. */
const RETRY_MS = 30_000;
/** How often a claim waiting on an allocate of unknown outcome looks for the allocation. */
const PENDING_RECHECK_MS = 3_000;

interface KindInfo {
  kind: ClaimKind;
  type: AllocationType;
  resource: typeof FloatingIPClaimResource;
  validator: Validator<Claim>;
  /** The status field holding the allocated value. */
  valueField: 'address' | 'prefix';
  requested(c: Claim): string | undefined;
  prefixLength(c: Claim): number | undefined;
}

const KINDS: Record<ClaimKind, KindInfo> = {
  FloatingIPClaim: {
    kind: 'FloatingIPClaim',
    type: 'FLOATING_IP',
    resource: FloatingIPClaimResource,
    validator: validateFloatingIPClaim,
    valueField: 'address',
    requested: (c) => ('address' in c.spec ? c.spec.address : undefined),
    prefixLength: () => undefined,
  },
  IPPrefixClaim: {
    kind: 'IPPrefixClaim',
    type: 'IP_PREFIX',
    resource: IPPrefixClaimResource,
    validator: validateIPPrefixClaim,
    valueField: 'prefix',
    requested: (c) => ('cidr' in c.spec ? c.spec.cidr : undefined),
    prefixLength: (c) => ('prefixLength' in c.spec && !('cidr' in c.spec && c.spec.cidr) ? c.spec.prefixLength : undefined),
  },
};

type Status = NonNullable<Claim['status']> & { address?: string; prefix?: string };

function creationOrder(a: Claim, b: Claim): number {
  return (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || objectKey(a).localeCompare(objectKey(b));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function claimController(kind: ClaimKind, deps: ControllerDeps): ControllerDefinition<Claim> {
  const info = KINDS[kind];
  const spaceIds = new Map<string, { id: string; name: string; at: number }>();

  const claimsOfConnection = (conn: unknown): string[] => {
    const c = conn as Connection;
    const key = c.kind === 'ClusterVCDConnection' ? `ClusterVCDConnection/${c.metadata?.name ?? ''}` : `VCDConnection/${c.metadata?.namespace ?? ''}/${c.metadata?.name ?? ''}`;
    const claims = deps.manager.informer<Claim>(info.resource).byIndex(BY_CONNECTION, key);
    return [...new Set(claims.map(groupKeyOf))];
  };

  return {
    name: kind.toLowerCase(),
    for: info.resource,
    keysFor: (claim) => [groupKeyOf(claim)],
    indexers: { [BY_GROUP]: (c) => [groupKeyOf(c)], [BY_CONNECTION]: (c) => [connectionKeyOf(c)] },
    watches: [
      { resource: VCDConnectionResource, keysFor: claimsOfConnection },
      { resource: ClusterVCDConnectionResource, keysFor: claimsOfConnection },
      {
        // A namespace's labels decide whether a ClusterVCDConnection serves it.
        resource: NamespaceResource,
        keysFor: (ns) => [...new Set(deps.manager.informer<Claim>(info.resource).list((ns as KubeObject).metadata?.name ?? '').map(groupKeyOf))],
      },
    ],
    // One worker per allocation group in flight: groups wait on VCD tasks, not on CPU.
    maxConcurrentReconciles: deps.claimWorkers,
    resyncPeriodMs: deps.driftCheckMs,
    reconcile: (key, ctx) => new GroupReconcile(key, ctx, deps, info, spaceIds).run(),
  };
}

/** One reconcile of one allocation group; holds what the steps share. */
class GroupReconcile {
  readonly #key: string;
  readonly #ctx: ReconcileContext<Claim>;
  readonly #deps: ControllerDeps;
  readonly #info: KindInfo;
  readonly #spaceIds: Map<string, { id: string; name: string; at: number }>;
  /** The freshest copy of each claim we hold (after our own writes). */
  readonly #latest = new Map<string, Claim>();
  #requeueAfterMs: number | undefined;
  #errors: unknown[] = [];

  constructor(key: string, ctx: ReconcileContext<Claim>, deps: ControllerDeps, info: KindInfo, spaceIds: Map<string, { id: string; name: string; at: number }>) {
    this.#key = key;
    this.#ctx = ctx;
    this.#deps = deps;
    this.#info = info;
    this.#spaceIds = spaceIds;
  }

  async run(): Promise<ReconcileResult | void> {
    const claims = this.#ctx.informer.byIndex(BY_GROUP, this.#key).sort(creationOrder);
    for (const c of claims) this.#latest.set(c.metadata?.uid ?? '', c);
    const usable = await this.#admit(claims);
    if (usable.length) await this.#reconcileInCloud(usable);
    if (this.#errors.length) throw this.#errors[0];
    return this.#requeueAfterMs === undefined ? undefined : { requeueAfterMs: this.#requeueAfterMs };
  }

  #requeue(ms: number): void {
    this.#requeueAfterMs = Math.max(1, Math.min(this.#requeueAfterMs ?? ms, ms));
  }

  #claim(uid: string): Claim {
    const c = this.#latest.get(uid);
    if (!c) throw new Error(`claim ${uid} vanished from the reconcile`);
    return c;
  }

  /** Spec validity and connection use, per claim; returns the claims that may touch VCD. */
  async #admit(claims: Claim[]): Promise<Claim[]> {
    const valid: Claim[] = [];
    for (const c of claims) {
      const checked = this.#info.validator.validate(c);
      if (checked.valid) {
        valid.push(c);
        continue;
      }
      if (c.metadata?.deletionTimestamp && !c.status?.allocationId) {
        await this.#dropFinalizer(c);
        continue;
      }
      await this.#notReady(c, Reasons.InvalidSpec, `${checked.message}. Fix the spec; nothing is allocated until then.`, { synced: true });
    }
    const ref = valid[0]?.spec.connectionRef;
    if (!ref) return [];
    const usable: Claim[] = [];
    const byNamespace = new Map<string, Awaited<ReturnType<ControllerDeps['pool']['resolve']>>>();
    for (const c of valid) {
      const ns = c.metadata?.namespace ?? '';
      let res = byNamespace.get(ns);
      if (!res) {
        res = await this.#deps.pool.resolve(ref, ns);
        byNamespace.set(ns, res);
      }
      if (res.ok) {
        usable.push(c);
      } else {
        const deleting = c.metadata?.deletionTimestamp ? ` The ${this.#info.kind} keeps its finalizer until its allocation can be released.` : '';
        await this.#notReady(c, res.reason, res.message + deleting);
      }
    }
    return usable;
  }

  async #reconcileInCloud(claims: Claim[]): Promise<void> {
    const first = claims[0]!;
    const res = await this.#deps.pool.resolve(first.spec.connectionRef, first.metadata?.namespace ?? '');
    if (!res.ok) return; // admitted a moment ago; the connection watch brings us back
    const orgRef = first.spec.org;
    let client: VcdClient = res.client;
    const connOrg = res.connection.spec.org;
    if (client.isProvider) {
      if (!orgRef?.name) {
        const message = orgRef?.id
          ? 'spec.org must name the organization (by name) when a provider connection allocates for it.'
          : `spec.org is required: connection ${res.connection.metadata?.name ?? ''} is a provider (System) connection and allocates on behalf of an organization.`;
        for (const c of claims) await this.#notReady(c, Reasons.InvalidSpec, message, { synced: true });
        return;
      }
      client = client.forOrg(orgRef.name);
    } else if (orgRef && (orgRef.name ?? '').toLowerCase() !== connOrg.toLowerCase()) {
      const message = `spec.org must be unset or ${connOrg}: a tenant connection allocates only for its own organization.`;
      for (const c of claims) await this.#notReady(c, Reasons.InvalidSpec, message, { synced: true });
      return;
    }
    const orgName = orgRef?.name ?? connOrg;

    if (!atLeast(client.apiVersion, '37.1')) {
      const message = `VCD API ${client.apiVersion} has no IP Spaces; they need API 37.1 (VCD 10.4.1) or later.`;
      for (const c of claims) await this.#notReady(c, Reasons.UnsupportedAPIVersion, message, { synced: true });
      return;
    }
    const supported: Claim[] = [];
    for (const c of claims) {
      if (this.#info.requested(c) && !atLeast(client.apiVersion, '37.2') && !c.metadata?.deletionTimestamp) {
        await this.#notReady(c, Reasons.UnsupportedAPIVersion, `Allocating a specific ${this.#info.valueField} needs VCD API 37.2 (VCD 10.4.2); the connection uses ${client.apiVersion}.`, {
          synced: true,
        });
      } else {
        supported.push(c);
      }
    }

    const space = await this.#ipSpace(client, connectionKeyOf(first), orgName, first);
    if (!space) {
      const ref = first.spec.ipSpace;
      const what = ref.id ? `id ${ref.id}` : `name ${ref.name ?? ''}`;
      for (const c of supported) await this.#notReady(c, Reasons.IPSpaceNotFound, `No IP Space with ${what} is visible to org ${orgName}. Check spec.ipSpace and that the org can use it.`);
      this.#requeue(RETRY_MS);
      return;
    }

    let allocations;
    try {
      allocations = await client.ipSpaces.allocations.list(space.id, { type: this.#info.type });
    } catch (err) {
      if (err instanceof VcdNotFoundError) this.#spaceIds.clear();
      throw err;
    }
    const views: AllocationView[] = allocations.flatMap((a) =>
      a.id && a.value
        ? [{ id: a.id, value: a.value, usageState: a.usageState ?? 'UNUSED', ...(a.description ? { description: a.description } : {}), ...(a.allocationDate ? { allocationDate: new Date(a.allocationDate) } : {}) }]
        : [],
    );
    const informer = this.#ctx.informer;
    const actions = plan({
      clusterId: this.#deps.clusterId,
      kind: this.#info.kind,
      claims: supported.map((c) => this.#view(c)),
      allocations: views,
      liveClaimUids: new Set(informer.list().map((c) => c.metadata?.uid ?? '')),
      namespaceInScope: this.#deps.namespaceInScope,
      now: new Date(this.#deps.manager.clock.now()),
      pendingWindowMs: this.#deps.pendingWindowMs,
    });
    await this.#execute(actions, client, space, orgName);
  }

  #view(c: Claim): ClaimView {
    const pending = c.metadata?.annotations?.[PENDING_ANNOTATION];
    const requested = this.#info.requested(c);
    const prefixLength = this.#info.prefixLength(c);
    return {
      uid: c.metadata?.uid ?? '',
      namespace: c.metadata?.namespace ?? '',
      name: c.metadata?.name ?? '',
      deleting: !!c.metadata?.deletionTimestamp,
      reclaimPolicy: c.spec.reclaimPolicy ?? 'Delete',
      ...(requested ? { requestedValue: requested } : {}),
      ...(prefixLength !== undefined ? { prefixLength } : {}),
      ...(pending && !Number.isNaN(Date.parse(pending)) ? { pendingSince: new Date(pending) } : {}),
      ...(c.status?.allocationId ? { statusAllocationId: c.status.allocationId } : {}),
    };
  }

  async #ipSpace(client: VcdClient, connKey: string, org: string, claim: Claim): Promise<{ id: string; name: string } | undefined> {
    const ref = claim.spec.ipSpace;
    const cacheKey = `${connKey}|${org}|${ref.id ?? ''}|${ref.name ?? ''}`;
    const cached = this.#spaceIds.get(cacheKey);
    const now = this.#deps.manager.clock.now();
    if (cached && now - cached.at < SPACE_TTL_MS) return cached;
    let found: { id: string; name: string } | undefined;
    if (ref.id) {
      try {
        const s = await client.ipSpaces.get(ref.id);
        found = { id: s.id ?? ref.id, name: s.name ?? ref.id };
      } catch (err) {
        if (!(err instanceof VcdNotFoundError)) throw err;
      }
    } else if (ref.name) {
      const s = await client.ipSpaces.findByName(ref.name);
      if (s?.id) found = { id: s.id, name: s.name ?? ref.name };
    }
    if (found) this.#spaceIds.set(cacheKey, { ...found, at: now });
    return found;
  }

  async #execute(actions: Action[], client: VcdClient, space: { id: string; name: string }, org: string): Promise<void> {
    const marks: Promise<void>[] = [];
    // Finalizers first: no allocation is made for a claim that could vanish without releasing it.
    for (const a of actions) {
      const claims = a.kind === 'allocate' ? a.claims : 'claim' in a && a.claim ? [a.claim] : [];
      for (const v of claims) if (!v.deleting) await this.#ensureFinalizer(v.uid);
    }
    for (const a of actions) {
      try {
        switch (a.kind) {
          case 'bind':
            marks.push(this.#guard(this.#bind(a.claim.uid, a.allocation.id, a.allocation.value, space, org)));
            break;
          case 'adopt':
            marks.push(this.#guard(this.#markAndBind(client, a.claim.uid, a.allocation.id, a.allocation.value, space, org, 'Adopted')));
            break;
          case 'release':
            marks.push(this.#guard(this.#release(client, space, a.allocation, a.claim?.uid, a.reason)));
            break;
          case 'retain':
            marks.push(this.#guard(this.#retain(client, space, a.claim.uid, a.allocation)));
            break;
          case 'finalize':
            await this.#dropFinalizer(this.#claim(a.claim.uid));
            break;
          case 'wait':
            await this.#notReady(
              this.#claim(a.claim.uid),
              Reasons.Pending,
              `An allocation request sent at ${a.claim.pendingSince?.toISOString() ?? '?'} has no known outcome yet; waiting until ${a.until.toISOString()} before allocating again, so no duplicate is made.`,
            );
            // Look again soon: the allocation usually shows up well before the window closes.
            this.#requeue(Math.max(1, Math.min(a.until.getTime() - this.#deps.manager.clock.now(), PENDING_RECHECK_MS)));
            break;
          case 'allocate':
          case 'allocateValue': {
            // Sequential per group (VCD serialises allocate per IP Space anyway); the marking of one
            // batch overlaps the allocate of the next.
            const claims = a.kind === 'allocate' ? a.claims : [a.claim];
            const results = await this.#allocate(client, space, claims, a.kind === 'allocateValue' ? { value: a.value } : { prefixLength: a.prefixLength });
            results.forEach((r, i) => {
              const claim = claims[i];
              if (claim) marks.push(this.#guard(this.#markAndBind(client, claim.uid, r.id, r.value, space, org, 'Allocated')));
            });
            break;
          }
        }
      } catch (err) {
        this.#errors.push(err);
      }
    }
    await Promise.all(marks);
  }

  /** Runs a step, keeping its error for the end so one failure does not stop the rest of the group. */
  #guard(p: Promise<void>): Promise<void> {
    return p.catch((err: unknown) => void this.#errors.push(err));
  }

  /**
   * Allocates for a batch; returns one result per claim it could serve. Quota errors are reported
   * on the claims that did not get an allocation; other errors propagate after the claims say why.
   */
  async #allocate(client: VcdClient, space: { id: string; name: string }, claims: ClaimView[], what: { value?: string; prefixLength?: number | undefined }): Promise<AllocationResult[]> {
    const stamp = new Date(this.#deps.manager.clock.now()).toISOString();
    await Promise.all(claims.map((c) => this.#setPending(c.uid, stamp)));
    const request = what.value
      ? { type: this.#info.type, value: what.value }
      : { type: this.#info.type, quantity: claims.length, ...(what.prefixLength !== undefined ? { prefixLength: what.prefixLength } : {}) };
    try {
      const results = await client.ipSpaces.allocate(space.id, request);
      this.#ctx.log.info({ ipSpace: space.name, count: results.length }, 'allocated');
      return results;
    } catch (err) {
      if (err instanceof VcdQuotaExceededError) {
        // Nothing was allocated. Smaller requests may still fit what is left of the quota.
        await Promise.all(claims.map((c) => this.#setPending(c.uid, null)));
        if (claims.length > 1) {
          const out: AllocationResult[] = [];
          for (const c of claims) {
            const one = await this.#allocate(client, space, [c], what);
            if (!one.length) break;
            out.push(...one);
          }
          return out;
        }
        for (const c of claims) await this.#notReady(this.#claim(c.uid), Reasons.QuotaExceeded, `${err.message}`, { event: true });
        this.#requeue(RETRY_MS);
        return [];
      }
      if (err instanceof UnsupportedApiVersionError) {
        await Promise.all(claims.map((c) => this.#setPending(c.uid, null)));
        for (const c of claims) await this.#notReady(this.#claim(c.uid), Reasons.UnsupportedAPIVersion, err.message, { synced: true });
        return [];
      }
      if (what.value && (err instanceof VcdApiError || err instanceof VcdTaskError) && !(err instanceof VcdBusyError) && (!(err instanceof VcdApiError) || err.status === 400)) {
        // VCD refused this address or prefix (taken, outside the ranges...): the user must act.
        await Promise.all(claims.map((c) => this.#setPending(c.uid, null)));
        const message = `VCD refused to allocate ${what.value}: ${errorMessage(err)}. Choose a free ${this.#info.valueField} inside the IP Space, or leave it unset.`;
        for (const c of claims) await this.#notReady(this.#claim(c.uid), Reasons.AddressUnavailable, message, { synced: true, event: true });
        this.#requeue(RETRY_MS);
        return [];
      }
      const unknownOutcome = (err instanceof CloudNetworkError && err.outcomeUnknown) || err instanceof VcdTaskTimeoutError;
      if (!unknownOutcome) await Promise.all(claims.map((c) => this.#setPending(c.uid, null)));
      const reason: Reason = err instanceof CloudNetworkError ? Reasons.Unreachable : Reasons.ReconcileError;
      const message = unknownOutcome
        ? `The allocate request's outcome is unknown (${errorMessage(err)}); the next attempt looks for the allocation first.`
        : `Allocation failed: ${errorMessage(err)}`;
      for (const c of claims) await this.#notReady(this.#claim(c.uid), reason, message, { event: true });
      throw err;
    }
  }

  async #markAndBind(client: VcdClient, uid: string, allocationId: string, value: string, space: { id: string; name: string }, org: string, how: 'Allocated' | 'Adopted'): Promise<void> {
    const claim = this.#claim(uid);
    const description = formatMarker({
      clusterId: this.#deps.clusterId,
      kind: this.#info.kind,
      namespace: claim.metadata?.namespace ?? '',
      name: claim.metadata?.name ?? '',
      uid,
    });
    await client.ipSpaces.allocations.update(space.id, allocationId, { usageState: 'USED_MANUAL', description, value, type: this.#info.type });
    await this.#ctx.events.record(claim, {
      type: 'Normal',
      reason: how,
      message: `${how === 'Adopted' ? 'Adopted its earlier allocation' : 'Allocated'} ${value} from IP Space ${space.name} and marked it USED_MANUAL.`,
    });
    await this.#bind(uid, allocationId, value, space, org);
  }

  async #bind(uid: string, allocationId: string, value: string, space: { id: string; name: string }, org: string): Promise<void> {
    const claim = this.#claim(uid);
    if (claim.metadata?.deletionTimestamp) return;
    const updated = await this.#ctx.status.patchStatus(claim, (s: Status) => {
      s[this.#info.valueField] = value;
      s.allocationId = allocationId;
      s.ipSpaceId = space.id;
      s.ipSpaceName = space.name;
      s.org = org;
      this.#conditions(s, claim, 'True', Reasons.Allocated, `${value} is allocated from IP Space ${space.name} for org ${org}.`, true);
    });
    this.#latest.set(uid, updated);
    await this.#setPending(uid, null);
  }

  async #release(client: VcdClient, space: { id: string; name: string }, allocation: AllocationView, uid: string | undefined, reason: 'Deleted' | 'Duplicate' | 'Orphaned'): Promise<void> {
    if (allocation.usageState !== 'UNUSED') {
      await client.ipSpaces.allocations.update(space.id, allocation.id, { usageState: 'UNUSED', description: '', value: allocation.value, type: this.#info.type });
    }
    await client.ipSpaces.allocations.delete(space.id, allocation.id);
    const claim = uid ? this.#latest.get(uid) : undefined;
    this.#ctx.log.info({ allocation: allocation.id, value: allocation.value, reason }, 'released allocation');
    if (!claim) return;
    await this.#ctx.events.record(claim, { type: 'Normal', reason: 'Released', message: `Released ${allocation.value} back to IP Space ${space.name} (${reason.toLowerCase()}).` });
    if (reason === 'Deleted') await this.#dropFinalizer(claim);
  }

  async #retain(client: VcdClient, space: { id: string; name: string }, uid: string, allocation: AllocationView): Promise<void> {
    const claim = this.#claim(uid);
    const description = formatMarker({
      clusterId: this.#deps.clusterId,
      kind: this.#info.kind,
      namespace: claim.metadata?.namespace ?? '',
      name: claim.metadata?.name ?? '',
      uid,
      retained: true,
    });
    await client.ipSpaces.allocations.update(space.id, allocation.id, { usageState: 'USED_MANUAL', description, value: allocation.value, type: this.#info.type });
    await this.#ctx.events.record(claim, { type: 'Normal', reason: 'Retained', message: `Kept ${allocation.value} allocated in IP Space ${space.name} (reclaimPolicy Retain).` });
    await this.#dropFinalizer(claim);
  }

  async #ensureFinalizer(uid: string): Promise<void> {
    const claim = this.#claim(uid);
    if (this.#ctx.finalizers.has(claim, CLAIM_FINALIZER)) return;
    this.#latest.set(uid, await this.#ctx.finalizers.ensure(claim, CLAIM_FINALIZER));
  }

  async #dropFinalizer(claim: Claim): Promise<void> {
    if (!this.#ctx.finalizers.has(claim, CLAIM_FINALIZER)) return;
    const uid = claim.metadata?.uid ?? '';
    this.#latest.set(uid, await this.#ctx.finalizers.remove(this.#latest.get(uid) ?? claim, CLAIM_FINALIZER));
  }

  /** Sets (ISO time) or clears (null) the create-pending annotation. */
  async #setPending(uid: string, value: string | null): Promise<void> {
    const claim = this.#claim(uid);
    const current = claim.metadata?.annotations?.[PENDING_ANNOTATION];
    if ((current ?? null) === value) return;
    const updated = await this.#ctx.client.patch<Claim>(this.#info.resource, claim.metadata?.name ?? '', claim.metadata?.namespace, {
      metadata: { annotations: { [PENDING_ANNOTATION]: value } },
    });
    this.#latest.set(uid, updated);
  }

  async #notReady(claim: Claim, reason: Reason, message: string, opts: { synced?: boolean; event?: boolean } = {}): Promise<void> {
    const uid = claim.metadata?.uid ?? '';
    const latest = this.#latest.get(uid) ?? claim;
    const before = this.#ctx.status.findCondition(latest.status?.conditions, 'Ready');
    const updated = await this.#ctx.status.patchStatus(latest, (s: Status) => {
      const keepsAllocation = !!s.allocationId && (reason === Reasons.ConnectionNotReady || reason === Reasons.Unreachable);
      this.#conditions(s, latest, keepsAllocation ? 'True' : 'False', keepsAllocation ? Reasons.Allocated : reason, message, opts.synced ?? false, reason);
    });
    this.#latest.set(uid, updated);
    if (opts.event || before?.reason !== reason) await this.#ctx.events.record(latest, { type: 'Warning', reason, message });
  }

  /**
   * Ready says whether the claim holds its allocation; Synced whether this reconcile worked. A
   * claim can be Ready with Synced False (its IP exists, VCD is unreachable now).
   */
  #conditions(s: Status, claim: Claim, ready: 'True' | 'False', reason: string, message: string, synced: boolean, syncReason: string = reason): void {
    const observedGeneration = claim.metadata?.generation ?? 0;
    s.conditions ??= [];
    this.#ctx.status.setCondition(s.conditions, { type: 'Ready', status: ready, reason, message, observedGeneration });
    this.#ctx.status.setCondition(
      s.conditions,
      synced
        ? { type: 'Synced', status: 'True', reason: Reasons.ReconcileSuccess, message: 'The last reconcile succeeded.', observedGeneration }
        : { type: 'Synced', status: 'False', reason: syncReason, message, observedGeneration },
    );
  }
}
