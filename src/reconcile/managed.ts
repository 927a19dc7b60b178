// The managed engine: one custom resource ↔ one cloud object (crossplane-runtime's managed
// reconciler, cut into named steps). A controller answers connect / observe / create / sync /
// delete; the engine owns the order, the finalizer, the create-pending guard, deletion policy,
// Ready/Synced and one status patch per reconcile.
//
//   deleted?      → finalize: Orphan lets go; nothing ever created lets go without a connection;
//                   otherwise find the object (id or marker) and delete it
//   invalid spec? → Ready/Synced False InvalidSpec, nothing sent
//   connect       → observe → (absent: guard, create) → sync → status → clear the guard
import type {
  ControllerDefinition,
  KubeObject,
  ReconcileContext,
  ReconcileResult,
  ResourceType,
  StatusShape,
  WatchDefinition,
  IndexFunc,
  Source,
} from '../runtime/index.ts';
import { Reasons } from '../api/index.ts';
import { applyOutcome, failed, invalidSpec, type Outcome } from './conditions.ts';
import type { EngineOptions } from './engine-options.ts';
import { pendingDecision, pendingSince, writePending } from './pending.ts';
import { certainlyNotWritten, Problem, problemOf } from './problems.ts';

export interface ManagedStatus extends StatusShape {
  id?: string;
}

export interface ManagedObject<S extends ManagedStatus = ManagedStatus> extends KubeObject {
  status?: S;
}

/** How a synced cloud object stands, and what the status should show. */
export interface Report<S> {
  outcome: Outcome;
  /** Status fields beyond the conditions (the cloud identity first of all). */
  fields?: (status: S) => void;
  /** Look again after this long; by default only the controller's resync (the drift-check period) does. */
  requeueAfterMs?: number;
}

/** The cloud side of one object, for one reconcile (crossplane's ExternalClient). */
export interface ManagedExternal<S> {
  /**
   * The cloud object: by the id the object already knows, else by name plus our ownership marker.
   * Throws a Problem when a foreign object stands in the way or an adopted id does not exist.
   */
  observe(knownId: string | undefined): Promise<{ id: string } | undefined>;
  /** Creates it; returns its id. Runs only under the create-pending guard. */
  create(): Promise<string>;
  /** Brings it in line with the spec, writing only what differs; says how it stands. */
  sync(id: string): Promise<Report<S>>;
  delete(id: string): Promise<void>;
}

export interface ManagedDefinition<T extends ManagedObject<S>, C, S extends ManagedStatus = NonNullable<T['status']>> {
  name: string;
  resource: ResourceType;
  finalizer: string;
  /** Why the spec cannot be acted on, or undefined when it can. */
  validate(obj: T): string | undefined;
  /** A logged-in client for the object, or a Problem saying why there is none. */
  connect(obj: T, ctx: ReconcileContext<T>): Promise<C>;
  external(obj: T, client: C, ctx: ReconcileContext<T>): ManagedExternal<S>;
  /** The cloud id the object knows: adopted (spec.id) or recorded (status.id). */
  knownId(obj: T): string | undefined;
  deletionPolicy(obj: T): 'Delete' | 'Orphan';
  /** "IP Space acme-public": used in messages. */
  describe(obj: T): string;
  /** What the user can do when the cloud refuses the delete (appended to DeleteBlocked). */
  deleteBlockedHint?: string;
  watches?: WatchDefinition[];
  indexers?: Record<string, IndexFunc<T>>;
  /** Keys from outside Kubernetes (VCD events). */
  sources?: Source[];
  maxConcurrentReconciles?: number;
}

/** Namespaced objects outside the watched namespace are not ours to reconcile; cluster-scoped ones always are. */
export function inScope(obj: KubeObject, opts: Pick<EngineOptions, 'namespaceInScope'>): boolean {
  const ns = obj.metadata?.namespace;
  return !ns || opts.namespaceInScope(ns);
}

export function managedController<T extends ManagedObject<S>, C, S extends ManagedStatus = NonNullable<T['status']>>(
  def: ManagedDefinition<T, C, S>,
  opts: EngineOptions,
): ControllerDefinition<T> {
  const now = (): number => opts.clock.now();

  async function write(ctx: ReconcileContext<T>, obj: T, o: Outcome, fields?: (s: S) => void): Promise<T> {
    const updated = await ctx.status.patchStatus(obj, (s: S) => {
      fields?.(s);
      applyOutcome(ctx.status, s, obj.metadata?.generation ?? 0, o);
    });
    // Every failure is an Event on the object (the recorder folds repeats into a count).
    if (o.synced.status === 'False') ctx.events.record(obj, { type: 'Warning', reason: o.synced.reason, message: o.synced.message });
    return updated;
  }

  /** Status for a problem; transient ones go back to the queue's backoff, the rest wait a period. */
  async function fail(ctx: ReconcileContext<T>, obj: T, err: unknown, doing: string, opts2: { keepReady?: boolean } = {}): Promise<ReconcileResult> {
    const p = problemOf(err, doing);
    if (!p) throw err;
    await write(ctx, obj, failed(p, obj.status?.conditions, opts2));
    if (p.transient) throw p;
    return { requeueAfterMs: p.requeueAfterMs ?? opts.retryMs };
  }

  async function waitForPending(ctx: ReconcileContext<T>, obj: T, since: number, waitMs: number, reason: string): Promise<ReconcileResult> {
    const message = `Waiting for the outcome of a write sent at ${new Date(since).toISOString()} before writing again, so no duplicate is made.`;
    await write(ctx, obj, { ready: { status: 'False', reason, message }, synced: { status: 'False', reason, message } });
    return { requeueAfterMs: Math.max(1, Math.min(waitMs, opts.pollPendingMs)) };
  }

  async function finalize(ctx: ReconcileContext<T>, obj: T): Promise<ReconcileResult | void> {
    if (!ctx.finalizers.has(obj, def.finalizer)) return;
    const id = def.knownId(obj);
    if (def.deletionPolicy(obj) === 'Orphan') {
      await ctx.finalizers.remove(obj, def.finalizer);
      ctx.events.record(obj, { type: 'Normal', reason: 'Orphaned', message: `Left ${def.describe(obj)} in the cloud (deletionPolicy: Orphan).` });
      return;
    }
    if (id === undefined && pendingSince(obj) === undefined) {
      // Nothing was ever created or adopted: no connection is needed to let go.
      await ctx.finalizers.remove(obj, def.finalizer);
      return;
    }
    let client: C;
    try {
      client = await def.connect(obj, ctx);
    } catch (err) {
      const p = problemOf(err, `delete ${def.describe(obj)}`);
      if (!p) throw err;
      const message = `${p.message} The finalizer stays until ${def.describe(obj)} can be deleted, or set deletionPolicy: Orphan.`;
      return fail(ctx, obj, new Problem(p.reason, message, { transient: p.transient }), '', { keepReady: false });
    }
    const ext = def.external(obj, client, ctx);
    try {
      let target = id;
      if (target === undefined) {
        target = (await ext.observe(undefined))?.id;
        const pending = pendingDecision(pendingSince(obj), now(), opts.pendingWindowMs);
        if (target === undefined && !pending.write) return waitForPending(ctx, obj, pending.since, pending.waitMs, Reasons.Deleting);
      }
      if (target !== undefined) await ext.delete(target);
      await ctx.finalizers.remove(obj, def.finalizer);
    } catch (err) {
      const p = problemOf(err, `delete ${def.describe(obj)}`);
      if (!p) throw err;
      const blocked = p.reason === Reasons.Refused;
      const shown = blocked
        ? new Problem(
            Reasons.DeleteBlocked,
            `${p.message} ${def.deleteBlockedHint ?? ''} Or set deletionPolicy: Orphan to keep it in the cloud; the finalizer stays until then.`.replace(
              / {2,}/g,
              ' ',
            ),
          )
        : p;
      return fail(ctx, obj, shown, '', { keepReady: false });
    }
  }

  return {
    name: def.name,
    for: def.resource,
    ...(def.watches ? { watches: def.watches } : {}),
    ...(def.sources ? { sources: def.sources } : {}),
    ...(def.indexers ? { indexers: def.indexers } : {}),
    maxConcurrentReconciles: def.maxConcurrentReconciles ?? 4,
    resyncPeriodMs: opts.driftCheckMs,
    async reconcile(key, ctx) {
      const cached = ctx.informer.get(key);
      if (!cached || !inScope(cached, opts)) return;
      if (cached.metadata?.deletionTimestamp) return finalize(ctx, cached);

      const invalid = def.validate(cached);
      if (invalid !== undefined) {
        await write(ctx, cached, invalidSpec(invalid));
        return; // a spec change enqueues it again
      }
      let obj = await ctx.finalizers.ensure(cached, def.finalizer);
      let client: C;
      try {
        client = await def.connect(obj, ctx);
      } catch (err) {
        return fail(ctx, obj, err, `reach the cloud for ${def.describe(obj)}`);
      }
      const ext = def.external(obj, client, ctx);
      try {
        let found = await ext.observe(def.knownId(obj));
        if (!found) {
          const pending = pendingDecision(pendingSince(obj), now(), opts.pendingWindowMs);
          if (!pending.write) return waitForPending(ctx, obj, pending.since, pending.waitMs, Reasons.Creating);
          obj = await writePending(ctx.client, def.resource, obj, now());
          try {
            found = { id: await ext.create() };
          } catch (err) {
            if (certainlyNotWritten(err)) obj = await writePending(ctx.client, def.resource, obj, null);
            throw err;
          }
        }
        const report = await ext.sync(found.id);
        obj = await write(ctx, obj, report.outcome, report.fields);
        // Only now that the status holds the id may the guard go: without either, a deletion
        // could let go of an object that exists.
        await writePending(ctx.client, def.resource, obj, null);
        // The resync (every drift-check period) looks again; a second timer of our own would double the reads.
        return report.requeueAfterMs !== undefined ? { requeueAfterMs: report.requeueAfterMs } : undefined;
      } catch (err) {
        return fail(ctx, obj, err, `reconcile ${def.describe(obj)}`);
      }
    },
  };
}
