// Carries out a claim group's plan (plan.ts) against VCD: binds and adopts what exists, releases
// and retains for deleted claims, and allocates the rest in batches of up to five. While one
// batch's task runs, the next batch is chosen, guarded and queued in the client, which sends it
// when the running task is due to end; finished batches are marked; claims created meanwhile join
// the queue.
import { Reasons, type Reason } from '../../api/index.ts';
import {
  VcdApiError,
  VcdBusyError,
  VcdQuotaExceededError,
  VcdTaskError,
  type AllocationResult,
  type AllocationType,
  type VcdClient,
} from '../../clients/vcd/index.ts';
import { sleep } from '../../runtime/clock.ts';
import type { ResourceType } from '../../runtime/index.ts';
import {
  certainlyNotWritten,
  errorMessage,
  formatMarker,
  markerFor,
  outcomeUnknown,
  pendingSince,
  Problem,
  writePending,
  type Group,
} from '../../reconcile/index.ts';
import type { ControllerDeps } from '../deps.ts';
import type { Claim } from './group.ts';
import { batchesOf, type Action, type AllocationView, type ClaimView } from './plan.ts';

export const CLAIM_FINALIZER = 'vcd-operator.io/allocation';
/** How long a partial first batch of just-created claims waits for more of its group. */
const BATCH_WINDOW_MS = 150;
/** Batches of a group sent or queued at once: the one allocating and the two chosen and guarded behind it. */
const PIPELINE_DEPTH = 3;
/** How often a claim waiting on an allocate of unknown outcome looks for the allocation. */
const PENDING_RECHECK_MS = 3_000;

export type ClaimStatus = NonNullable<Claim['status']> & { address?: string; prefix?: string };

export interface KindInfo {
  kind: 'FloatingIPClaim' | 'IPPrefixClaim';
  resource: ResourceType;
  type: AllocationType;
  /** The status field holding the allocated value. */
  valueField: 'address' | 'prefix';
  requested(c: Claim): string | undefined;
  prefixLength(c: Claim): number | undefined;
}

interface Batch {
  claims: ClaimView[];
  prefixLength?: number;
}

/** A batch whose allocate is sent or queued, with its outcome held as a value. */
interface Sending {
  batch: Batch;
  outcome: Promise<AllocationResult[] | Failure>;
}

export interface Target {
  client: VcdClient;
  space: { id: string; name: string };
  org: string;
}

const uidOf = (c: Claim): string => c.metadata?.uid ?? '';

export class ClaimExecutor {
  readonly #g: Group<Claim, ClaimStatus>;
  readonly #deps: ControllerDeps;
  readonly #info: KindInfo;
  readonly #t: Target;
  readonly #firstSeen: Map<string, number>;
  readonly #view: (c: Claim) => ClaimView;
  readonly #admittedNamespaces: ReadonlySet<string>;

  constructor(o: {
    group: Group<Claim, ClaimStatus>;
    deps: ControllerDeps;
    info: KindInfo;
    target: Target;
    firstSeen: Map<string, number>;
    view: (c: Claim) => ClaimView;
    admittedNamespaces: ReadonlySet<string>;
  }) {
    this.#g = o.group;
    this.#deps = o.deps;
    this.#info = o.info;
    this.#t = o.target;
    this.#firstSeen = o.firstSeen;
    this.#view = o.view;
    this.#admittedNamespaces = o.admittedNamespaces;
  }

  get #now(): number {
    return this.#deps.manager.clock.now();
  }

  async execute(actions: Action[]): Promise<void> {
    const g = this.#g;
    const marks: Promise<void>[] = [];
    const batches: Batch[] = [];
    // Finalizers first: nothing is held in VCD for a claim that could vanish without releasing it.
    // (Claims about to be allocated for get theirs with the pending guard, in one write.)
    for (const a of actions) {
      if (a.kind === 'allocate' || a.kind === 'allocateValue') continue;
      if ('claim' in a && a.claim && !a.claim.deleting) await g.guard(g.ensureFinalizer(a.claim.uid, CLAIM_FINALIZER));
    }
    for (const a of actions) {
      try {
        switch (a.kind) {
          case 'bind':
            marks.push(g.guard(this.#bind(a.claim.uid, a.allocation.id, a.allocation.value)));
            break;
          case 'adopt':
            marks.push(g.guard(this.#markAndBind(a.claim.uid, a.allocation.id, a.allocation.value, 'Adopted')));
            break;
          case 'release':
            marks.push(g.guard(this.#release(a.allocation, a.claim?.uid, a.reason)));
            break;
          case 'retain':
            marks.push(g.guard(this.#retain(a.claim.uid, a.allocation)));
            break;
          case 'finalize':
            await g.dropFinalizer(a.claim.uid, CLAIM_FINALIZER);
            break;
          case 'wait':
            g.problem(
              a.claim.uid,
              new Problem(
                Reasons.Pending,
                `An allocation request sent at ${a.claim.pendingSince?.toISOString() ?? '?'} has no known outcome yet; looking for its result until ` +
                  `${a.until.toISOString()} before allocating again, so no duplicate is made.`,
              ),
            );
            // Look again soon: the allocation usually shows up well before the window closes.
            g.requeueAfter(Math.max(1, Math.min(a.until.getTime() - this.#now, PENDING_RECHECK_MS)));
            break;
          case 'allocate':
            batches.push({ claims: a.claims, ...(a.prefixLength !== undefined ? { prefixLength: a.prefixLength } : {}) });
            break;
          case 'allocateValue': {
            const results = await this.#allocate([a.claim], { value: a.value });
            for (const r of results) marks.push(g.guard(this.#markAndBind(a.claim.uid, r.id, r.value, 'Allocated')));
            break;
          }
        }
      } catch (err) {
        g.fail(err);
      }
    }
    await g.guard(this.#pipeline(batches, marks));
    await Promise.all(marks);
  }

  /**
   * Batch after batch. While one batch allocates, the next two are chosen, guarded and queued in
   * the client, which sends each when the IP Space's running allocate is due to end: a guard write
   * that takes longer than one task (the apiserver under a burst) then still does not hold the IP
   * Space idle. A failure stops the pipeline once what was sent has its outcome, so no sent batch
   * is left unmarked.
   */
  async #pipeline(planned: Batch[], marks: Promise<void>[]): Promise<void> {
    let queue = [...planned];
    // Newcomers join the queue, and the queue is cut into batches again, so a batch is partial
    // only when nothing else is waiting.
    const takeNext = async (): Promise<Batch | undefined> => {
      const fresh = await this.#newcomers();
      queue = batchesOf([...queue.flatMap((b) => b.claims), ...fresh]);
      return queue.shift();
    };
    let first = await takeNext();
    if (first && first.claims.length < 5) {
      const wait = BATCH_WINDOW_MS - this.#youngestAgeMs(first.claims);
      if (wait > 0) {
        await sleep(this.#deps.manager.clock, wait, this.#g.ctx.signal).catch(() => undefined);
        queue.unshift(first);
        first = await takeNext();
      }
    }
    if (!first) return;
    await this.#guardBatch(first.claims);
    // Guard and allocate promises never reject: an error is held as a value until it is looked
    // at, so a 409 on a guard written while a task runs is never an unhandled rejection.
    const ahead: Array<Promise<Sending | Failure | undefined>> = [Promise.resolve(this.#send(first))];
    let failure: Failure | undefined;
    let more = true;
    // One batch is taken at a time, so two never hold the same claim.
    let taking: Promise<unknown> = Promise.resolve();
    /** Takes, guards and queues one more batch; false when there is none to take or the pipeline stops. */
    const prepare = (): boolean => {
      if (!more || failure || this.#g.ctx.signal.aborted) return false;
      const batch = taking.then(takeNext);
      taking = batch.catch(() => undefined);
      ahead.push(
        settle(
          batch.then(async (b) => {
            if (!b) {
              more = false;
              return undefined;
            }
            await this.#guardBatch(b.claims);
            return this.#send(b);
          }),
        ),
      );
      return true;
    };
    // One batch behind the first to begin with: at start-up every group guards its first batch
    // at once, and a third batch's guards would only slow those down.
    prepare();
    while (ahead.length) {
      const sending = await ahead.shift();
      if (sending === undefined) continue;
      if (sending instanceof Failure) {
        failure ??= sending;
        continue;
      }
      const outcome = await sending.outcome;
      if (outcome instanceof Failure) failure ??= outcome;
      else {
        const batch = sending.batch;
        // This batch's marks and status writes wait a turn of the event loop, so that an allocate
        // let through only now (its task's usual duration is not known yet) is on the wire first.
        const nextSent = new Promise<void>((resolve) => setImmediate(resolve));
        outcome.forEach((r, i) => {
          const claim = batch.claims[i];
          if (claim) marks.push(nextSent.then(() => this.#g.guard(this.#markAndBind(claim.uid, r.id, r.value, 'Allocated'))));
        });
      }
      while (ahead.length < PIPELINE_DEPTH && prepare());
    }
    if (failure) throw failure.error;
  }

  #send(batch: Batch): Sending {
    return { batch, outcome: settle(this.#allocate(batch.claims, { prefixLength: batch.prefixLength }, { guarded: true })) };
  }

  /** Claims of this group created since the reconcile began, that need a fresh allocation. */
  async #newcomers(): Promise<ClaimView[]> {
    const fresh = await this.#g.newcomers(
      (c) =>
        !c.metadata?.deletionTimestamp &&
        !c.status?.allocationId &&
        pendingSince(c) === undefined &&
        this.#admittedNamespaces.has(c.metadata?.namespace ?? '') &&
        !this.#info.requested(c),
    );
    const now = this.#now;
    for (const c of fresh) if (!this.#firstSeen.has(uidOf(c))) this.#firstSeen.set(uidOf(c), now);
    return fresh.map(this.#view);
  }

  /** How long ago the most recently seen of these claims first appeared to this controller. */
  #youngestAgeMs(claims: ClaimView[]): number {
    return Math.min(...claims.map((c) => this.#now - (this.#firstSeen.get(c.uid) ?? 0)));
  }

  /**
   * Before an allocate: the finalizer and the create-pending guard in one resourceVersion-guarded
   * write per claim. When one of them fails the batch is not sent, and the guards that were
   * written are taken back, or their claims would look for an outcome that never comes.
   */
  async #guardBatch(claims: ClaimView[]): Promise<void> {
    const at = this.#now;
    const { ctx } = this.#g;
    const written = await Promise.allSettled(
      claims.map(async (c) => {
        const claim = this.#g.get(c.uid);
        this.#g.set(await writePending(ctx.client, this.#info.resource, claim, at, { finalizer: CLAIM_FINALIZER, guardVersion: true }));
      }),
    );
    const failed = written.find((w) => w.status === 'rejected');
    if (!failed) return;
    await Promise.allSettled(claims.filter((_c, i) => written[i]?.status === 'fulfilled').map((c) => this.#clearPending(c.uid)));
    throw failed.reason;
  }

  async #clearPending(uid: string): Promise<void> {
    const claim = this.#g.get(uid);
    this.#g.set(await writePending(this.#g.ctx.client, this.#info.resource, claim, null));
  }

  /**
   * Allocates for a batch; returns one result per claim it could serve. A refusal VCD will repeat
   * (a taken or out-of-range address, a prefix length with no sequence) parks the claims until
   * their spec changes or a growing delay passes; quota errors wait for quota to free.
   */
  async #allocate(
    claims: ClaimView[],
    what: { value?: string; prefixLength?: number | undefined },
    opts: { guarded?: boolean } = {},
  ): Promise<AllocationResult[]> {
    const g = this.#g;
    if (!opts.guarded) await this.#guardBatch(claims);
    const request = what.value
      ? { type: this.#info.type, value: what.value }
      : { type: this.#info.type, quantity: claims.length, ...(what.prefixLength !== undefined ? { prefixLength: what.prefixLength } : {}) };
    try {
      const results = await this.#t.client.ipSpaces.allocate(this.#t.space.id, request);
      g.ctx.log.info({ ipSpace: this.#t.space.name, count: results.length }, 'allocated');
      for (const c of claims) g.accepted(c.uid);
      return results;
    } catch (err) {
      if (!outcomeUnknown(err)) await Promise.all(claims.map((c) => this.#clearPending(c.uid)));
      if (err instanceof VcdQuotaExceededError) {
        // Nothing was allocated. Smaller requests may still fit what is left of the quota.
        if (claims.length > 1) {
          const out: AllocationResult[] = [];
          for (const c of claims) {
            const one = await this.#allocate([c], what);
            if (!one.length) break;
            out.push(...one);
          }
          return out;
        }
        for (const c of claims) g.refuse(c.uid, new Problem(Reasons.QuotaExceeded, err.message));
        return [];
      }
      if (refused(err)) {
        const what2 = what.value ?? (what.prefixLength !== undefined ? `a /${what.prefixLength} prefix` : `a ${this.#info.valueField}`);
        const reason: Reason = Reasons.AddressUnavailable;
        const message =
          `VCD refused to allocate ${what2} from IP Space ${this.#t.space.name}: ${errorMessage(err)}. ` +
          `Choose a ${this.#info.valueField} the IP Space can give (inside its ranges or prefix sequences), or leave it unset. Retried with a growing delay until the spec changes.`;
        for (const c of claims) {
          g.refuse(c.uid, new Problem(reason, message));
          g.event(c.uid, 'Warning', reason, message);
        }
        return [];
      }
      const unknown = outcomeUnknown(err);
      const reason: Reason = unknown ? Reasons.Pending : Reasons.ReconcileError;
      const message = unknown
        ? `The allocate request's outcome is unknown (${errorMessage(err)}); the next attempt looks for the allocation first.`
        : `Allocation failed: ${errorMessage(err)}`;
      for (const c of claims) g.problem(c.uid, new Problem(reason, message, { transient: true }));
      throw err;
    }
  }

  /**
   * Marks the allocation as the claim's in VCD and reports the claim Ready side by side: the
   * address is the org's once VCD allocated it, and the marking task takes as long as the
   * allocate did. The guard stays until both are done; a crash between them leaves the status
   * naming an unmarked allocation, which the next reconcile marks again (the plan's adopt).
   */
  async #markAndBind(uid: string, allocationId: string, value: string, how: 'Allocated' | 'Adopted'): Promise<void> {
    const claim = this.#g.get(uid);
    const description = formatMarker(markerFor(this.#deps.clusterId, this.#info.kind, claim));
    const [marked, reported] = await Promise.allSettled([
      this.#t.client.ipSpaces.allocations.put(this.#t.space.id, allocationId, { usageState: 'USED_MANUAL', description, value, type: this.#info.type }),
      this.#report(uid, allocationId, value),
    ]);
    if (marked.status === 'rejected') throw marked.reason;
    if (reported.status === 'rejected') throw reported.reason;
    this.#g.event(
      uid,
      'Normal',
      how,
      `${how === 'Adopted' ? 'Adopted its earlier allocation' : 'Allocated'} ${value} from IP Space ${this.#t.space.name} and marked it USED_MANUAL.`,
    );
    if (reported.value) await this.#clearPending(uid);
  }

  /** An allocation already marked as the claim's: Ready, then the guard goes. */
  async #bind(uid: string, allocationId: string, value: string): Promise<void> {
    if (await this.#report(uid, allocationId, value)) await this.#clearPending(uid);
  }

  /** Ready with the allocation in status, written at once; false for a claim being deleted. */
  async #report(uid: string, allocationId: string, value: string): Promise<boolean> {
    const claim = this.#g.get(uid);
    if (claim.metadata?.deletionTimestamp) return false;
    const { space, org } = this.#t;
    this.#g.ready(uid, Reasons.Allocated, `${value} is allocated from IP Space ${space.name} for org ${org}.`, (s) => {
      s[this.#info.valueField] = value;
      s.allocationId = allocationId;
      s.ipSpaceId = space.id;
      s.ipSpaceName = space.name;
      s.org = org;
    });
    await this.#g.flush(uid);
    return true;
  }

  async #release(allocation: AllocationView, uid: string | undefined, reason: 'Deleted' | 'Duplicate' | 'Orphaned'): Promise<void> {
    const { client, space } = this.#t;
    // Delete first: the marker stays until the allocation is gone. Only where VCD refuses to delete
    // a used allocation is it unmarked first (a half-way stop is then found by the status' id).
    try {
      await client.ipSpaces.allocations.delete(space.id, allocation.id);
    } catch (err) {
      if (!refused(err) || allocation.usageState === 'UNUSED') throw err;
      await client.ipSpaces.allocations.put(space.id, allocation.id, { usageState: 'UNUSED', description: '', value: allocation.value, type: this.#info.type });
      await client.ipSpaces.allocations.delete(space.id, allocation.id);
    }
    this.#g.ctx.log.info({ allocation: allocation.id, value: allocation.value, reason }, 'released allocation');
    if (!uid || !this.#g.has(uid)) return;
    this.#g.event(uid, 'Normal', 'Released', `Released ${allocation.value} back to IP Space ${space.name} (${reason.toLowerCase()}).`);
    if (reason === 'Deleted') await this.#g.dropFinalizer(uid, CLAIM_FINALIZER);
  }

  async #retain(uid: string, allocation: AllocationView): Promise<void> {
    const claim = this.#g.get(uid);
    const description = formatMarker(markerFor(this.#deps.clusterId, this.#info.kind, claim, true));
    await this.#t.client.ipSpaces.allocations.put(this.#t.space.id, allocation.id, {
      usageState: 'USED_MANUAL',
      description,
      value: allocation.value,
      type: this.#info.type,
    });
    this.#g.event(uid, 'Normal', 'Retained', `Kept ${allocation.value} allocated in IP Space ${this.#t.space.name} (reclaimPolicy Retain).`);
    await this.#g.dropFinalizer(uid, CLAIM_FINALIZER);
  }
}

/** VCD refused the request itself (it will again, unchanged): a 4xx that is not BUSY, or a failed task. */
function refused(err: unknown): boolean {
  if (err instanceof VcdBusyError) return false;
  return (
    certainlyNotWritten(err) && ((err instanceof VcdApiError && err.status >= 400 && err.status < 500 && err.status !== 429) || err instanceof VcdTaskError)
  );
}

class Failure {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/** A promise that resolves with the value, or with the error held as a value (never rejects). */
function settle<V>(p: Promise<V>): Promise<V | Failure> {
  return p.then(
    (v) => v,
    (err: unknown) => new Failure(err),
  );
}
