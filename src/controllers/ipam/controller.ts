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
import { connectionKey, connectionKeyOf, type Connection, type Resolution } from '../connections/pool.ts';
import type { ControllerDeps } from '../deps.ts';
import { connectionKeyOfClaim, groupKeyOf, parseGroupKey, type Claim } from './group.ts';
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
/** VCD allocates at most this many addresses in one call. */
const MAX_BATCH = 5;
/** How long a partial first batch of just-created claims waits for more of its group. */
const BATCH_WINDOW_MS = 150;

interface Batch {
  claims: ClaimView[];
  prefixLength?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

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
  const shared: Shared = { spaceIds: new Map(), firstSeen: new Map() };

  const claimsOfConnection = (conn: unknown): string[] => {
    const claims = deps.manager.informer<Claim>(info.resource).byIndex(BY_CONNECTION, connectionKey(conn as Connection));
    return [...new Set(claims.map(groupKeyOf))];
  };

  return {
    name: kind.toLowerCase(),
    for: info.resource,
    keysFor: (claim) => [groupKeyOf(claim)],
    indexers: { [BY_GROUP]: (c) => [groupKeyOf(c)], [BY_CONNECTION]: (c) => [connectionKeyOfClaim(c)] },
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
    reconcile: (key, ctx) => new GroupReconcile(key, ctx, deps, info, shared).run(),
  };
}

/** What the reconciles of one controller share. */
interface Shared {
  /** Resolved IP Space (and org) ids and names, per connection and reference. */
  spaceIds: Map<string, { id: string; name: string; at: number }>;
  /** When each claim was first seen by a reconcile (creationTimestamp has only second precision). */
  firstSeen: Map<string, number>;
}

/** One reconcile of one allocation group; holds what the steps share. */
class GroupReconcile {
  readonly #key: string;
  readonly #ctx: ReconcileContext<Claim>;
  readonly #deps: ControllerDeps;
  readonly #info: KindInfo;
  readonly #spaceIds: Map<string, { id: string; name: string; at: number }>;
  readonly #firstSeen: Map<string, number>;
  /** The freshest copy of each claim we hold (after our own writes). */
  readonly #latest = new Map<string, Claim>();
  #requeueAfterMs: number | undefined;
  #errors: unknown[] = [];
  /** Namespaces whose claims may use this group's connection (checked in #admit). */
  readonly #admittedNamespaces = new Set<string>();
  /** The group's connection, as #admit resolved it. */
  #resolved: Extract<Resolution, { ok: true }> | undefined;

  constructor(key: string, ctx: ReconcileContext<Claim>, deps: ControllerDeps, info: KindInfo, shared: Shared) {
    this.#key = key;
    this.#ctx = ctx;
    this.#deps = deps;
    this.#info = info;
    this.#spaceIds = shared.spaceIds;
    this.#firstSeen = shared.firstSeen;
  }

  async run(): Promise<ReconcileResult | void> {
    const claims = this.#ctx.informer.byIndex(BY_GROUP, this.#key).sort(creationOrder);
    if (!claims.length) return this.#sweep();
    for (const c of claims) this.#latest.set(c.metadata?.uid ?? '', c);
    this.#noteSeen(claims);
    const usable = await this.#admit(claims);
    try {
      if (usable.length) await this.#reconcileInCloud(usable);
    } catch (err) {
      this.#errors.push(err);
    }
    if (this.#errors.length) {
      await this.#reportNotSynced(usable, this.#errors[0]);
      throw this.#errors[0];
    }
    return this.#requeueAfterMs === undefined ? undefined : { requeueAfterMs: this.#requeueAfterMs };
  }

  /**
   * The group's last claim is gone. A claim whose finalizer was removed by hand left its marked
   * allocation behind; give back any such allocation of ours in this IP Space.
   */
  async #sweep(): Promise<void> {
    const ref = parseGroupKey(this.#key);
    if (!ref) return;
    const res = await this.#deps.pool.resolve(ref.connectionRef, ref.namespace ?? this.#deps.pool.operatorNamespace);
    if (!res.ok) return; // without a connection there is nothing to sweep with
    let client = res.client;
    let org = ref.org?.name ?? res.connection.spec.org;
    const connKey = connectionKeyOf(ref.connectionRef.kind, ref.connectionRef.name, ref.namespace);
    if (client.isProvider) {
      const named = ref.org?.id ? await this.#orgById(client, connKey, ref.org.id) : ref.org?.name ? { name: ref.org.name } : undefined;
      if (!named) return;
      org = named.name;
      client = client.forOrg('id' in named ? named : named.name);
    }
    const space = await this.#ipSpace(client, connKey, org, ref.ipSpace);
    if (!space) return;
    const allocations = await client.ipSpaces.allocations.list(space.id, { type: this.#info.type });
    const actions = plan({
      clusterId: this.#deps.clusterId,
      kind: this.#info.kind,
      claims: [],
      allocations: allocations.flatMap((a) => (a.id && a.value ? [{ id: a.id, value: a.value, usageState: a.usageState ?? 'UNUSED', ...(a.description ? { description: a.description } : {}) }] : [])),
      liveClaimUids: new Set(this.#ctx.informer.list().map((c) => c.metadata?.uid ?? '')),
      namespaceInScope: this.#deps.namespaceInScope,
      now: new Date(this.#deps.manager.clock.now()),
      pendingWindowMs: this.#deps.pendingWindowMs,
    });
    for (const a of actions) if (a.kind === 'release') await this.#release(client, space, a.allocation, undefined, a.reason);
  }

  /**
   * The reconcile failed part-way (VCD unreachable, a 5xx past its retries...): Synced=False on
   * the claims that were in it, Ready left as it was (an allocation that exists stays usable).
   */
  async #reportNotSynced(claims: Claim[], err: unknown): Promise<void> {
    const reason: Reason = err instanceof CloudNetworkError ? Reasons.Unreachable : Reasons.ReconcileError;
    const message = `The last reconcile failed and will be retried: ${errorMessage(err)}`;
    for (const c of claims) {
      const latest = this.#latest.get(c.metadata?.uid ?? '') ?? c;
      if (!this.#ctx.informer.get(objectKey(latest))) continue;
      const observedGeneration = latest.metadata?.generation ?? 0;
      try {
        this.#latest.set(
          latest.metadata?.uid ?? '',
          await this.#ctx.status.patchStatus(latest, (s: Status) => {
            s.conditions ??= [];
            this.#ctx.status.setCondition(s.conditions, { type: 'Synced', status: 'False', reason, message, observedGeneration });
          }),
        );
      } catch {
        // Best effort: the error itself is what the queue retries on.
      }
    }
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
    const byNamespace = new Map<string, Resolution>();
    for (const c of valid) {
      const ns = c.metadata?.namespace ?? '';
      let res = byNamespace.get(ns);
      if (!res) {
        res = await this.#deps.pool.resolve(ref, ns);
        byNamespace.set(ns, res);
      }
      if (res.ok) {
        usable.push(c);
        this.#admittedNamespaces.add(ns);
        this.#resolved ??= res;
      } else if (c.metadata?.deletionTimestamp && !c.status?.allocationId && !c.metadata.annotations?.[PENDING_ANNOTATION]) {
        // Nothing was ever allocated for it: no connection is needed to let it go.
        await this.#dropFinalizer(c);
      } else {
        const deleting = c.metadata?.deletionTimestamp ? ` The ${this.#info.kind} keeps its finalizer until its allocation can be released.` : '';
        await this.#notReady(c, res.reason, res.message + deleting);
      }
    }
    return usable;
  }

  async #reconcileInCloud(claims: Claim[]): Promise<void> {
    const first = claims[0]!;
    const res = this.#resolved;
    if (!res) return;
    const orgRef = first.spec.org;
    let client: VcdClient = res.client;
    const connOrg = res.connection.spec.org;
    let orgName = orgRef?.name ?? connOrg;
    if (client.isProvider) {
      if (!orgRef) {
        const message = `spec.org is required: connection ${res.connection.metadata?.name ?? ''} is a provider (System) connection and allocates on behalf of an organization.`;
        for (const c of claims) await this.#notReady(c, Reasons.InvalidSpec, message, { synced: true });
        return;
      }
      if (orgRef.id) {
        // The tenant context needs the org's name as well as its id.
        const org = await this.#orgById(client, connectionKeyOfClaim(first), orgRef.id);
        if (!org) {
          for (const c of claims) await this.#notReady(c, Reasons.OrgNotFound, `No organization with id ${orgRef.id} exists in VCD. Check spec.org.`);
          this.#requeue(RETRY_MS);
          return;
        }
        orgName = org.name;
        client = client.forOrg(org);
      } else {
        client = client.forOrg(orgRef.name ?? '');
      }
    } else if (orgRef && (orgRef.name ?? '').toLowerCase() !== connOrg.toLowerCase()) {
      const message = `spec.org must be unset or ${connOrg}: a tenant connection allocates only for its own organization.`;
      for (const c of claims) await this.#notReady(c, Reasons.InvalidSpec, message, { synced: true });
      return;
    }

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

    const space = await this.#ipSpace(client, connectionKeyOfClaim(first), orgName, first.spec.ipSpace);
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

  async #orgById(client: VcdClient, connKey: string, id: string): Promise<{ id: string; name: string } | undefined> {
    const cacheKey = `org|${connKey}|${id}`;
    const cached = this.#spaceIds.get(cacheKey);
    if (cached && this.#deps.manager.clock.now() - cached.at < SPACE_TTL_MS) return cached;
    const org = await client.orgs.get(id);
    if (org) this.#spaceIds.set(cacheKey, { ...org, at: this.#deps.manager.clock.now() });
    return org;
  }

  async #ipSpace(client: VcdClient, connKey: string, org: string, ref: { name?: string; id?: string }): Promise<{ id: string; name: string } | undefined> {
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
    const batches: Batch[] = [];
    // Finalizers first: nothing is held in VCD for a claim that could vanish without releasing it.
    // (Claims about to be allocated for get theirs with the pending guard, in one write.)
    for (const a of actions) {
      if (a.kind === 'allocate' || a.kind === 'allocateValue') continue;
      if ('claim' in a && a.claim && !a.claim.deleting) await this.#ensureFinalizer(a.claim.uid);
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
            batches.push({ claims: a.claims, ...(a.prefixLength !== undefined ? { prefixLength: a.prefixLength } : {}) });
            break;
          case 'allocateValue': {
            const results = await this.#allocate(client, space, [a.claim], { value: a.value });
            for (const r of results) marks.push(this.#guard(this.#markAndBind(client, a.claim.uid, r.id, r.value, space, org, 'Allocated')));
            break;
          }
        }
      } catch (err) {
        this.#errors.push(err);
      }
    }
    if (!this.#errors.length) {
      try {
        await this.#pipeline(client, space, org, batches, marks);
      } catch (err) {
        this.#errors.push(err);
      }
    }
    await Promise.all(marks);
  }

  /**
   * Allocates batch after batch, one allocate in flight per group (VCD serialises them per IP
   * Space anyway). While one batch's task runs, the next batch is chosen and its guard written,
   * and the marking of finished batches goes on beside; claims created meanwhile join the queue.
   * A partial first batch of young claims waits a moment for its neighbours.
   */
  async #pipeline(client: VcdClient, space: { id: string; name: string }, org: string, planned: Batch[], marks: Promise<void>[]): Promise<void> {
    let queue = [...planned];
    // Newcomers join the queue, and the queue is cut into batches again, so a batch is partial
    // only when nothing else is waiting.
    const takeNext = (): Batch | undefined => {
      queue = this.#batchesOf([...queue.flatMap((b) => b.claims), ...this.#newcomerBatches().flatMap((b) => b.claims)]);
      return queue.shift();
    };
    let current = takeNext();
    if (current && current.claims.length < MAX_BATCH) {
      const wait = BATCH_WINDOW_MS - this.#youngestAgeMs(current.claims);
      if (wait > 0) {
        await sleep(wait, this.#ctx.signal);
        queue.unshift(current);
        current = takeNext();
      }
    }
    let guarded = current ? this.#guardBatch(current.claims) : undefined;
    while (current && guarded) {
      await guarded;
      const allocating = this.#allocate(client, space, current.claims, { prefixLength: current.prefixLength }, { guarded: true });
      const following = this.#ctx.signal.aborted ? undefined : takeNext();
      const followingGuard = following ? this.#guardBatch(following.claims) : undefined;
      let results: AllocationResult[];
      try {
        results = await allocating;
      } catch (err) {
        // The next batch was never sent: take its guard back, or it would wait out the window.
        if (following && followingGuard) {
          await followingGuard.catch(() => undefined);
          await Promise.all(following.claims.map((c) => this.#setPending(c.uid, null))).catch(() => undefined);
        }
        throw err;
      }
      const batch = current;
      results.forEach((r, i) => {
        const claim = batch.claims[i];
        if (claim) marks.push(this.#guard(this.#markAndBind(client, claim.uid, r.id, r.value, space, org, 'Allocated')));
      });
      current = following;
      guarded = followingGuard;
    }
  }

  /** How long ago the most recently seen of these claims first appeared to this controller. */
  #youngestAgeMs(claims: ClaimView[]): number {
    const now = this.#deps.manager.clock.now();
    return Math.min(...claims.map((c) => now - (this.#firstSeen.get(c.uid) ?? 0)));
  }

  #batchesOf(claims: ClaimView[]): Batch[] {
    const actions = plan({
      clusterId: this.#deps.clusterId,
      kind: this.#info.kind,
      claims,
      allocations: [],
      liveClaimUids: new Set(),
      namespaceInScope: () => false,
      now: new Date(this.#deps.manager.clock.now()),
      pendingWindowMs: this.#deps.pendingWindowMs,
    });
    return actions.flatMap((a) => (a.kind === 'allocate' ? [{ claims: a.claims, ...(a.prefixLength !== undefined ? { prefixLength: a.prefixLength } : {}) }] : []));
  }

  /**
   * Claims of this group created since the reconcile began. A newcomer has no pending guard and
   * no allocation id, so nothing in VCD can be its own yet: it needs no look at the allocations.
   */
  #newcomerBatches(): Batch[] {
    const fresh = this.#ctx.informer
      .byIndex(BY_GROUP, this.#key)
      .filter(
        (c) =>
          !this.#latest.has(c.metadata?.uid ?? '') &&
          !c.metadata?.deletionTimestamp &&
          !c.status?.allocationId &&
          !c.metadata?.annotations?.[PENDING_ANNOTATION] &&
          this.#admittedNamespaces.has(c.metadata?.namespace ?? '') &&
          !this.#info.requested(c) &&
          this.#info.validator.validate(c).valid,
      )
      .sort(creationOrder);
    for (const c of fresh) this.#latest.set(c.metadata?.uid ?? '', c);
    this.#noteSeen(fresh);
    return this.#batchesOf(fresh.map((c) => this.#view(c)));
  }

  #noteSeen(claims: Claim[]): void {
    const now = this.#deps.manager.clock.now();
    for (const c of claims) if (!this.#firstSeen.has(c.metadata?.uid ?? '')) this.#firstSeen.set(c.metadata?.uid ?? '', now);
    // Forget claims that are gone, now and then, so the map stays the size of the cache.
    if (this.#firstSeen.size > 2 * this.#ctx.informer.keys().length + 100) {
      const live = new Set(this.#ctx.informer.list().map((c) => c.metadata?.uid ?? ''));
      for (const uid of this.#firstSeen.keys()) if (!live.has(uid)) this.#firstSeen.delete(uid);
    }
  }

  #guardBatch(claims: ClaimView[]): Promise<void> {
    const stamp = new Date(this.#deps.manager.clock.now()).toISOString();
    return Promise.all(claims.map((c) => this.#guardAllocation(c.uid, stamp))).then(() => undefined);
  }

  /** Runs a step, keeping its error for the end so one failure does not stop the rest of the group. */
  #guard(p: Promise<void>): Promise<void> {
    return p.catch((err: unknown) => void this.#errors.push(err));
  }

  /**
   * Allocates for a batch; returns one result per claim it could serve. Quota errors are reported
   * on the claims that did not get an allocation; other errors propagate after the claims say why.
   */
  async #allocate(
    client: VcdClient,
    space: { id: string; name: string },
    claims: ClaimView[],
    what: { value?: string; prefixLength?: number | undefined },
    opts: { guarded?: boolean } = {},
  ): Promise<AllocationResult[]> {
    if (!opts.guarded) await this.#guardBatch(claims);
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
    const description = this.#marker(claim, false);
    await client.ipSpaces.allocations.put(space.id, allocationId, { usageState: 'USED_MANUAL', description, value, type: this.#info.type });
    await this.#ctx.events.record(claim, {
      type: 'Normal',
      reason: how,
      message: `${how === 'Adopted' ? 'Adopted its earlier allocation' : 'Allocated'} ${value} from IP Space ${space.name} and marked it USED_MANUAL.`,
    });
    await this.#bind(uid, allocationId, value, space, org);
  }

  #marker(claim: Claim, retained: boolean): string {
    return formatMarker({
      clusterId: this.#deps.clusterId,
      kind: this.#info.kind,
      namespace: claim.metadata?.namespace ?? '',
      name: claim.metadata?.name ?? '',
      uid: claim.metadata?.uid ?? '',
      retained,
    });
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
    // Delete first: the marker stays until the allocation is gone. Only where VCD refuses to delete
    // a used allocation is it unmarked first (a half-way stop is then found by the status' id).
    try {
      await client.ipSpaces.allocations.delete(space.id, allocation.id);
    } catch (err) {
      const refused = (err instanceof VcdApiError && err.status === 400 && !(err instanceof VcdBusyError)) || err instanceof VcdTaskError;
      if (!refused || allocation.usageState === 'UNUSED') throw err;
      await client.ipSpaces.allocations.put(space.id, allocation.id, { usageState: 'UNUSED', description: '', value: allocation.value, type: this.#info.type });
      await client.ipSpaces.allocations.delete(space.id, allocation.id);
    }
    const claim = uid ? this.#latest.get(uid) : undefined;
    this.#ctx.log.info({ allocation: allocation.id, value: allocation.value, reason }, 'released allocation');
    if (!claim) return;
    await this.#ctx.events.record(claim, { type: 'Normal', reason: 'Released', message: `Released ${allocation.value} back to IP Space ${space.name} (${reason.toLowerCase()}).` });
    if (reason === 'Deleted') await this.#dropFinalizer(claim);
  }

  async #retain(client: VcdClient, space: { id: string; name: string }, uid: string, allocation: AllocationView): Promise<void> {
    const claim = this.#claim(uid);
    const description = this.#marker(claim, true);
    await client.ipSpaces.allocations.put(space.id, allocation.id, { usageState: 'USED_MANUAL', description, value: allocation.value, type: this.#info.type });
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

  /**
   * Before an allocate: the finalizer and the create-pending annotation in one write, guarded by
   * resourceVersion so another writer's finalizer is never dropped (a 409 retries the reconcile).
   */
  async #guardAllocation(uid: string, stamp: string): Promise<void> {
    const claim = this.#claim(uid);
    const finalizers = claim.metadata?.finalizers ?? [];
    const updated = await this.#ctx.client.patch<Claim>(this.#info.resource, claim.metadata?.name ?? '', claim.metadata?.namespace, {
      metadata: {
        resourceVersion: claim.metadata?.resourceVersion,
        ...(finalizers.includes(CLAIM_FINALIZER) ? {} : { finalizers: [...finalizers, CLAIM_FINALIZER] }),
        annotations: { [PENDING_ANNOTATION]: stamp },
      },
    });
    this.#latest.set(uid, updated);
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
