// The grouped engine: many custom resources ↔ one cloud object or list (an IP Space's
// allocations, an edge gateway's firewall, a vCenter's trust store). The key is the shared cloud
// object, typed through a KeyCodec. One reconcile per key: members are admitted one by one (one
// bad object never blocks its neighbours), the adapter observes once, plans purely and executes,
// giving each member an outcome; the engine writes one status patch per member at the end (or
// earlier, when the adapter flushes one), and turns errors into Synced=False on the members.
import { Reasons, type Validator } from '../api/index.ts';
import {
  isKubeApiError,
  objectKey,
  type ControllerDefinition,
  type IndexFunc,
  type KubeObject,
  type ReconcileContext,
  type ReconcileResult,
  type ResourceType,
  type StatusShape,
  type WatchDefinition,
  type Source,
} from '../runtime/index.ts';
import { applyOutcome, conditionHolder, failed, ready, READY_SYNCED, type ConditionTypes, type Outcome } from './conditions.ts';
import type { EngineOptions } from './engine-options.ts';
import type { KeyCodec } from './keys.ts';
import { inScope } from './managed.ts';
import { mapLimit } from './parallel.ts';
import { errorMessage, Problem, problemOf } from './problems.ts';
import { Refusals } from './refusals.ts';

export interface GroupedObject<S extends StatusShape = StatusShape> extends KubeObject {
  status?: S;
}

/** Per-reconcile memo for admission checks (one connection lookup per namespace, say). */
export interface AdmitContext<T extends KubeObject> {
  ctx: ReconcileContext<T>;
  memo<V>(key: string, compute: () => Promise<V>): Promise<V>;
}

/** One admission step: a Problem parks the object (its status says why), undefined lets it on. */
export type AdmissionCheck<T extends KubeObject> = (obj: T, a: AdmitContext<T>) => Problem | undefined | Promise<Problem | undefined>;

/** The first check of a chain: the spec against its schema; `meanwhile` says what waits for a fix. */
export function validSpec<T extends KubeObject>(validator: Validator<T>, meanwhile: string): AdmissionCheck<T> {
  return (obj) => {
    const invalid = validator.problem(obj);
    return invalid === undefined ? undefined : new Problem(Reasons.InvalidSpec, `${invalid}. Fix the spec; ${meanwhile}.`);
  };
}

export interface GroupedDefinition<T extends GroupedObject<S>, K, S extends StatusShape = NonNullable<T['status']>> {
  name: string;
  resource: ResourceType;
  finalizer: string;
  codec: KeyCodec<K>;
  /** The group of an object; undefined when it belongs to none (the facet is not asked for). */
  keyOf(obj: T): K | undefined;
  /** Condition types written on members; Ready and Synced by default. */
  conditions?: ConditionTypes;
  /** Checks in order; the first Problem wins. Deleting objects pass through too, so they can be let go. */
  admit: AdmissionCheck<T>[];
  /**
   * Whether anything may exist in the cloud for this object (an id in status, a pending guard).
   * A deleted object that holds nothing drops its finalizer at once, without a connection.
   */
  holdsCloudState(obj: T): boolean;
  /** The group's work: observe once, plan, execute; every member gets an outcome through `group`. */
  reconcile(key: K, group: Group<T, S>): Promise<void>;
  /** The key has no member left: sweep what the group may have left behind. */
  empty?(key: K, ctx: ReconcileContext<T>): Promise<void>;
  watches?: WatchDefinition[];
  indexers?: Record<string, IndexFunc<T>>;
  /** Keys from outside Kubernetes (VCD events). */
  sources?: Source[];
  maxConcurrentReconciles?: number;
  resyncPeriodMs?: number;
}

/** Status writes of one group in flight at once. */
const STATUS_PARALLEL = 16;

/** The index every grouped controller keeps: member objects by encoded key. */
export const GROUP_INDEX = 'group';

// Plain comparison, not localeCompare: RFC 3339 timestamps and object keys order as their code
// units do, and a collator made this sort a visible part of a 1,000-member group's start-up.
function creationOrder(a: KubeObject, b: KubeObject): number {
  return compare(a.metadata?.creationTimestamp ?? '', b.metadata?.creationTimestamp ?? '') || compare(objectKey(a), objectKey(b));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const uidOf = (o: KubeObject): string => o.metadata?.uid ?? '';

/** What an adapter sees of one reconcile of one key. */
export class Group<T extends GroupedObject<S>, S extends StatusShape> {
  readonly ctx: ReconcileContext<T>;
  readonly #latest = new Map<string, T>();
  readonly #outcomes = new Map<string, { outcome: Outcome; fields?: (s: S) => void }>();
  readonly #admitted: T[] = [];
  readonly #errors: unknown[] = [];
  readonly #refusals: Refusals;
  readonly #admit: (obj: T) => Promise<boolean>;
  readonly #now: () => number;
  #requeueMs: number | undefined;

  readonly #types: ConditionTypes;

  constructor(ctx: ReconcileContext<T>, refusals: Refusals, admit: (obj: T) => Promise<boolean>, now: () => number, types: ConditionTypes = READY_SYNCED) {
    this.ctx = ctx;
    this.#refusals = refusals;
    this.#admit = admit;
    this.#now = now;
    this.#types = types;
  }

  /** Admitted members, oldest first. */
  get members(): readonly T[] {
    return this.#admitted.map((o) => this.get(uidOf(o)));
  }

  /** The freshest copy of a member (after the adapter's own writes). */
  get(uid: string): T {
    const o = this.#latest.get(uid);
    if (!o) throw new Error(`object ${uid} is not in this group`);
    return o;
  }

  has(uid: string): boolean {
    return this.#latest.has(uid);
  }

  /** Records the object a write returned, so later writes start from it. */
  set(obj: T): T {
    this.#latest.set(uidOf(obj), obj);
    return obj;
  }

  /** @internal */ track(obj: T, admitted: boolean): void {
    this.#latest.set(uidOf(obj), obj);
    if (admitted) this.#admitted.push(obj);
  }

  /**
   * Members of this key created since the reconcile began that pass admission (newcomers of a
   * long reconcile join it instead of waiting for the next one).
   */
  async newcomers(filter: (obj: T) => boolean): Promise<T[]> {
    const fresh = this.ctx
      .byIndex(GROUP_INDEX, this.ctx.key)
      .filter((o) => !this.#latest.has(uidOf(o)) && filter(o))
      .sort(creationOrder);
    // All are known before the first await, so a call made meanwhile does not return them again.
    for (const o of fresh) this.#latest.set(uidOf(o), o);
    const out: T[] = [];
    for (const o of fresh) {
      if (await this.#admit(o)) {
        this.#admitted.push(o);
        out.push(o);
      }
    }
    return out;
  }

  async ensureFinalizer(uid: string, finalizer: string): Promise<void> {
    const o = this.get(uid);
    if (!this.ctx.finalizers.has(o, finalizer)) this.set(await this.ctx.finalizers.ensure(o, finalizer));
  }

  async dropFinalizer(uid: string, finalizer: string): Promise<void> {
    const o = this.get(uid);
    if (this.ctx.finalizers.has(o, finalizer)) this.set(await this.ctx.finalizers.remove(o, finalizer));
  }

  /** Sets a member's outcome, written at the end of the reconcile (or by flush). */
  outcome(uid: string, outcome: Outcome, fields?: (s: S) => void): void {
    const prev = this.#outcomes.get(uid);
    // Fields accumulate (an id bound early, a message later); the outcome is the latest.
    const merged = prev?.fields && fields ? (s: S) => (prev.fields?.(s), fields(s)) : (fields ?? prev?.fields);
    this.#outcomes.set(uid, { outcome, ...(merged ? { fields: merged } : {}) });
  }

  ready(uid: string, reason: string, message: string, fields?: (s: S) => void): void {
    this.outcome(uid, ready(reason, message), fields);
  }

  problem(uid: string, p: Problem, opts: { keepReady?: boolean; fields?: (s: S) => void } = {}): void {
    this.outcome(uid, failed(p, conditionHolder(this.#latest.get(uid)?.status, this.#types)?.conditions, opts), opts.fields);
  }

  /**
   * The cloud refused this member in a way that repeats until its spec changes: its status says
   * why, and it is not sent again before a growing delay passes (or its generation changes).
   */
  refuse(uid: string, p: Problem): void {
    this.problem(uid, p);
    this.requeueAfter(this.#refusals.note(this.get(uid)));
  }

  /** Until when a member is held back after a refusal, or undefined; the key is looked at again then. */
  refusedUntil(uid: string): number | undefined {
    const until = this.#refusals.blockedUntil(this.get(uid));
    if (until !== undefined) this.requeueAfter(until - this.#now());
    return until;
  }

  accepted(uid: string): void {
    this.#refusals.forget(this.get(uid));
  }

  event(uid: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.events.record(this.get(uid), { type, reason, message });
  }

  requeueAfter(ms: number): void {
    this.#requeueMs = Math.max(1, Math.min(this.#requeueMs ?? ms, ms));
  }

  /** Keeps an error for the end, so one failure does not stop the rest of the group. */
  fail(err: unknown): void {
    this.#errors.push(err);
  }

  /** Runs a step, keeping its error for the end. */
  guard(p: Promise<void>): Promise<void> {
    return p.catch((err: unknown) => this.fail(err));
  }

  /** Writes a member's outcome now (a claim Ready while its neighbours' batches still run). */
  async flush(uid: string): Promise<void> {
    const o = this.#outcomes.get(uid);
    if (!o) return;
    this.#outcomes.delete(uid);
    const obj = this.get(uid);
    if (!this.ctx.informer.get(objectKey(obj))) return; // gone meanwhile
    const held = conditionHolder(obj.status, this.#types)?.conditions;
    const before = this.ctx.status.findCondition(held, this.#types.ready);
    const beforeSynced = this.ctx.status.findCondition(held, this.#types.synced ?? this.#types.ready);
    this.set(
      await this.ctx.status.patchStatus(obj, (s: S) => {
        o.fields?.(s);
        applyOutcome(this.ctx.status, s, obj.metadata?.generation ?? 0, o.outcome, this.#types);
      }),
    );
    const { ready: r, synced } = o.outcome;
    // An Event when a member stops being Ready or Synced, or the reason changes.
    if (r !== 'unchanged' && r.status === 'False' && (before?.status !== 'False' || before.reason !== r.reason)) {
      this.ctx.events.record(obj, { type: 'Warning', reason: r.reason, message: r.message });
    } else if (synced.status === 'False' && (beforeSynced?.status !== 'False' || beforeSynced.reason !== synced.reason)) {
      this.ctx.events.record(obj, { type: 'Warning', reason: synced.reason, message: synced.message });
    }
  }

  /** @internal Writes every outcome; members left without one get Synced=False when errors were kept. */
  async finish(): Promise<{ error?: unknown; requeueAfterMs?: number }> {
    // A failure that is not a resourceVersion conflict is the one to report and retry on: a
    // conflict alone is retried soon by the runtime, which a real failure must not borrow.
    const first = this.#errors.find((e) => !isKubeApiError(e, 409)) ?? this.#errors[0];
    // Conflicts alone say nothing about the cloud, and a status write now would only move the
    // objects further ahead of the cache the retry reads (the managed engine writes none either).
    if (first !== undefined && !isKubeApiError(first, 409)) {
      const p = problemOf(first, 'reconcile') ?? new Problem(Reasons.ReconcileError, `The last reconcile failed: ${errorMessage(first)}`, { transient: true });
      const message = `The last reconcile failed and will be retried: ${p.message}`;
      for (const o of this.#admitted) {
        const uid = uidOf(o);
        if (this.#outcomes.has(uid)) continue;
        // Ready stays as it was: an allocation that exists stays usable.
        this.#outcomes.set(uid, { outcome: { ready: 'unchanged', synced: { status: 'False', reason: p.reason, message } } });
      }
    }
    // Many members' status writes go out side by side, a bounded number at a time.
    await mapLimit([...this.#outcomes.keys()], STATUS_PARALLEL, async (uid) => {
      try {
        await this.flush(uid);
      } catch (err) {
        // A member deleted or changed meanwhile: the next reconcile writes it.
        this.#errors.push(err);
      }
    });
    return { ...(first !== undefined ? { error: first } : {}), ...(this.#requeueMs !== undefined ? { requeueAfterMs: this.#requeueMs } : {}) };
  }
}

export function groupedController<T extends GroupedObject<S>, K, S extends StatusShape = NonNullable<T['status']>>(
  def: GroupedDefinition<T, K, S>,
  opts: EngineOptions,
): ControllerDefinition<T> {
  const refusals = new Refusals({ clock: opts.clock, initialMs: opts.retryMs });
  const keysOf = (o: T): string[] => {
    const k = def.keyOf(o);
    return k === undefined ? [] : [def.codec.encode(k)];
  };
  let reconciles = 0;

  return {
    name: def.name,
    for: def.resource,
    keysFor: keysOf,
    indexers: { ...def.indexers, [GROUP_INDEX]: keysOf },
    ...(def.watches ? { watches: def.watches } : {}),
    ...(def.sources ? { sources: def.sources } : {}),
    maxConcurrentReconciles: def.maxConcurrentReconciles ?? 4,
    resyncPeriodMs: def.resyncPeriodMs ?? opts.driftCheckMs,
    async reconcile(text, ctx): Promise<ReconcileResult | void> {
      const key = def.codec.decode(text);
      if (key === undefined) {
        ctx.log.error({ key: text }, 'not a key of this controller; ignored');
        return;
      }
      const all = ctx
        .byIndex(GROUP_INDEX, text)
        .filter((o) => inScope(o, opts))
        .sort(creationOrder);
      if (!all.length) {
        await def.empty?.(key, ctx);
        return;
      }
      if (++reconciles % 1000 === 0) refusals.retain(new Set(ctx.informer.list().map(uidOf)));

      const memo = new Map<string, Promise<unknown>>();
      const a: AdmitContext<T> = {
        ctx,
        memo<V>(k: string, compute: () => Promise<V>): Promise<V> {
          let p = memo.get(k) as Promise<V> | undefined;
          if (!p) memo.set(k, (p = compute()));
          return p;
        },
      };
      const group: Group<T, S> = new Group<T, S>(
        ctx,
        refusals,
        (obj) => admit(obj),
        () => opts.clock.now(),
        def.conditions,
      );
      async function admit(obj: T): Promise<boolean> {
        const uid = uidOf(obj);
        if (obj.metadata?.deletionTimestamp && !def.holdsCloudState(obj)) {
          // Nothing was ever written to the cloud for it: no connection is needed to let it go.
          await group.dropFinalizer(uid, def.finalizer);
          return false;
        }
        for (const check of def.admit) {
          const p = await check(obj, a);
          if (!p) continue;
          const deleting = obj.metadata?.deletionTimestamp ? ' The finalizer stays until what it holds in the cloud can be released.' : '';
          group.problem(uid, deleting ? new Problem(p.reason, p.message + deleting, { transient: p.transient }) : p);
          if (p.requeueAfterMs !== undefined) group.requeueAfter(p.requeueAfterMs);
          else if (p.reason !== Reasons.InvalidSpec) group.requeueAfter(opts.retryMs);
          return false;
        }
        return true;
      }
      for (const obj of all) {
        group.track(obj, false);
        try {
          if (await admit(obj)) group.track(obj, true);
        } catch (err) {
          group.fail(err);
        }
      }
      try {
        if (group.members.length) await def.reconcile(key, group);
      } catch (err) {
        group.fail(err);
      }
      const { error, requeueAfterMs } = await group.finish();
      if (error !== undefined) {
        const p = problemOf(error, 'reconcile');
        if (!p || p.transient) throw error instanceof Error ? error : new Error(errorMessage(error));
        return { requeueAfterMs: Math.min(requeueAfterMs ?? opts.retryMs, p.requeueAfterMs ?? opts.retryMs) };
      }
      return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
    },
  };
}
