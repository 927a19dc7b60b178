// One controller: informer events become keys in its work queue; N workers reconcile keys, never
// the same key twice at once; results decide forget / requeue-after / rate-limited retry.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import type { Clock, TimerHandle } from './clock.ts';
import { isKubeApiError, TerminalError } from './errors.ts';
import type { EventRecorder } from './events.ts';
import type { FinalizerHelper } from './finalizers.ts';
import { errorSummary, scopedIndexName, type IndexFunc, type SupervisedInformer } from './informer.ts';
import type { ReconcileResultLabel, RuntimeMetrics } from './metrics.ts';
import type { InformerEvents } from './namespaced-informers.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { jsonEqual } from './merge-patch.ts';
import type { StatusWriter } from './status.ts';
import { objectKey, type KubeObject, type ResourceType } from './types.ts';
import { WorkQueue } from './workqueue.ts';

const CONFLICT_RETRY_MS = 1000;
const CONFLICT_RETRY_MAX_MS = 30_000;

export interface ReconcileResult {
  /** Reconcile this key again after this long (drift checks, polling a cloud task). */
  requeueAfterMs?: number;
}

export interface ReconcileContext<T extends KubeObject = KubeObject> {
  key: string;
  /** pino child carrying controller, key and reconcileID. */
  log: Logger;
  /** Aborted when shutdown's drain deadline passes or leadership is lost. */
  signal: AbortSignal;
  /** The primary resource's shared informer: read objects from here, not from the API. */
  informer: SupervisedInformer<T>;
  status: StatusWriter;
  events: EventRecorder;
  finalizers: FinalizerHelper;
  client: KubeClient;
  /** Cached primary objects whose index `name` (declared in this controller's indexers) yields `value`. */
  byIndex(name: string, value: string): T[];
}

export interface WatchDefinition {
  resource: ResourceType;
  /**
   * Where the events come from when not from the manager's informer of `resource` (informers
   * per namespace, made on demand).
   */
  events?: InformerEvents<KubeObject>;
  /** Keys of this controller to reconcile when a related object changes. */
  keysFor(obj: unknown): string[];
  /** Whether an update of the related object matters to this controller (controller-runtime's predicate); default: every update. */
  changed?(oldObj: unknown, newObj: unknown): boolean;
}

/**
 * A source of keys from outside Kubernetes (a message-bus subscription, a poller), controller-
 * runtime's source.Channel: the manager runs it while this replica leads, as a runnable (restarted
 * with backoff when it throws), and every key it passes to `enqueue` is reconciled like a key
 * from an informer event. Reconcile still reads current state; the event only says when.
 */
export interface Source {
  /** Unique within the controller; used in logs. */
  name: string;
  /** Runs until `signal` aborts; calls `enqueue` for every external event. */
  start(enqueue: (keys: Iterable<string>) => void, signal: AbortSignal): Promise<void>;
}

export interface ControllerDefinition<T extends KubeObject = KubeObject> {
  /** Unique; used in metrics, logs and as the Event reportingController suffix. */
  name: string;
  for: ResourceType;
  /** Keys of an object; default one key `namespace/name`. Many-to-one returns a shared key. */
  keysFor?(obj: T): string[];
  watches?: WatchDefinition[];
  /** Non-Kubernetes inputs that enqueue keys of this controller. */
  sources?: Source[];
  reconcile(key: string, ctx: ReconcileContext<T>): Promise<ReconcileResult | void>;
  /** Default 1. */
  maxConcurrentReconciles?: number;
  /** Every key of every cached primary object is enqueued this often (±10 %); absent: never. */
  resyncPeriodMs?: number;
  /**
   * Indexes added to the primary informer, e.g. { byEdge: (rule) => [edgeKey(rule)] }. They are
   * scoped to this controller (stored as `<controller name>/<index name>`), so controllers sharing
   * an informer may reuse names; look them up with ctx.byIndex or Manager.byIndex.
   */
  indexers?: Record<string, IndexFunc<T>>;
  /**
   * Skip primary updates that change nothing but status (the echo of our own status writes).
   * Default true; spec, metadata and deletion changes always enqueue, and resync still runs.
   */
  ignoreStatusOnlyUpdates?: boolean;
  /** Overrides the default (5 ms → 1000 s per key, max with 10 qps / burst 100). */
  rateLimiter?: RateLimiter;
}

export interface ControllerDeps<T extends KubeObject> {
  primary: SupervisedInformer<T>;
  informerFor: (r: ResourceType) => SupervisedInformer<KubeObject>;
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  metrics: RuntimeMetrics;
  status: StatusWriter;
  events: EventRecorder;
  finalizers: FinalizerHelper;
  random?: () => number;
}

export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #def: ControllerDefinition<T>;
  readonly #d: ControllerDeps<T>;
  readonly #log: Logger;
  readonly #workers: Promise<void>[] = [];
  readonly #abort = new AbortController();
  #resyncTimer: TimerHandle | undefined;
  #running = false;
  #lastWorkAt = 0;
  /** Consecutive reconciles of a key that failed on a resourceVersion conflict. */
  readonly #conflicts = new Map<string, number>();

  constructor(def: ControllerDefinition<T>, deps: ControllerDeps<T>) {
    this.name = def.name;
    this.#def = def;
    this.#d = deps;
    this.#lastWorkAt = deps.clock.now();
    this.#log = deps.logger.child({ controller: def.name });
    this.queue = new WorkQueue({
      name: def.name,
      clock: deps.clock,
      rateLimiter: def.rateLimiter,
      metrics: deps.metrics.queueMetrics(def.name),
    });
    deps.metrics.initController(def.name, this.#concurrency);
    for (const [name, fn] of Object.entries(def.indexers ?? {})) deps.primary.addIndexer(name, fn, def.name);

    const keysFor = (obj: T): string[] => (def.keysFor ? def.keysFor(obj) : [objectKey(obj)]);
    const enqueue = (keys: () => string[]): void => {
      // A Set: old and new object usually map to the same key, which must be added once, or a
      // worker that picks it up at once would see the second add and reconcile twice.
      for (const k of new Set(this.#safeKeys(keys))) this.queue.add(k);
    };
    const skipStatusOnly = def.ignoreStatusOnlyUpdates ?? true;
    deps.primary.on({
      add: (obj) => enqueue(() => keysFor(obj)),
      update: (oldObj, newObj) => {
        if (oldObj === newObj) return enqueue(() => keysFor(newObj)); // resync
        if (skipStatusOnly && onlyStatusChanged(oldObj, newObj)) return;
        enqueue(() => [...keysFor(oldObj), ...keysFor(newObj)]);
      },
      delete: (obj) => enqueue(() => keysFor(obj)),
    });
    for (const w of def.watches ?? []) {
      (w.events ?? deps.informerFor(w.resource)).on({
        add: (obj) => enqueue(() => w.keysFor(obj)),
        update: (oldObj, newObj) => {
          if (oldObj === newObj) return enqueue(() => w.keysFor(newObj)); // resync
          if (w.changed && !w.changed(oldObj, newObj)) return;
          enqueue(() => [...w.keysFor(oldObj), ...w.keysFor(newObj)]);
        },
        delete: (obj) => enqueue(() => w.keysFor(obj)),
      });
    }
  }

  get #concurrency(): number {
    return Math.max(1, this.#def.maxConcurrentReconciles ?? 1);
  }

  /** Adds keys from outside the informers (a Source); ignored once the controller stops taking keys. */
  enqueue(keys: Iterable<string>): void {
    for (const k of new Set(keys)) if (typeof k === 'string' && k) this.queue.add(k);
  }

  /** Cached primary objects whose index `name` (one of this controller's indexers) yields `value`. */
  byIndex(name: string, value: string): T[] {
    if (!Object.hasOwn(this.#def.indexers ?? {}, name)) throw new Error(`controller ${this.name} declares no index ${name}`);
    return this.#d.primary.byIndex(scopedIndexName(this.name, name), value);
  }

  /** Starts the workers (the leader does this; a standby only fills its queue). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#work());
    this.#scheduleResync();
  }

  /** Stops taking keys; in-flight reconciles go on until drained() or abortInFlight(). */
  stopIntake(): void {
    this.#resyncTimer?.cancel();
    this.queue.shutdown();
  }

  /** Resolves when every worker has returned. */
  async drained(): Promise<void> {
    await Promise.all(this.#workers);
  }

  /** Aborts the signal every running reconcile received. */
  abortInFlight(reason: string): void {
    this.#abort.abort(new Error(reason));
  }

  #scheduleResync(): void {
    const period = this.#def.resyncPeriodMs ?? 0;
    if (period <= 0) return;
    const jittered = period * (0.9 + 0.2 * (this.#d.random ?? Math.random)());
    this.#resyncTimer = this.#d.clock.setTimeout(() => {
      if (this.queue.shuttingDown) return;
      const def = this.#def;
      for (const obj of this.#d.primary.list()) {
        for (const k of this.#safeKeys(() => (def.keysFor ? def.keysFor(obj) : [objectKey(obj)]))) this.queue.add(k);
      }
      this.#scheduleResync();
    }, jittered);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcile(key);
      } finally {
        this.queue.done(key);
        this.#lastWorkAt = this.#d.clock.now();
      }
    }
  }

  /** When the last reconcile ended, or undefined while one runs or keys wait. */
  idleSince(): number | undefined {
    return this.queue.processing() > 0 || this.queue.len() > 0 ? undefined : this.#lastWorkAt;
  }

  async #reconcile(key: string): Promise<void> {
    const { metrics, clock } = this.#d;
    const labels = { controller: this.name };
    const log = this.#log.child({ key, reconcileID: randomUUID() });
    const started = clock.now();
    metrics.activeWorkers.inc(labels);
    let result: ReconcileResultLabel = 'success';
    try {
      const res = await this.#def.reconcile(key, {
        key,
        log,
        signal: this.#abort.signal,
        informer: this.#d.primary,
        status: this.#d.status,
        events: this.#d.events,
        finalizers: this.#d.finalizers,
        client: this.#d.client,
        byIndex: (name, value) => this.byIndex(name, value),
      });
      this.queue.forget(key);
      this.#conflicts.delete(key);
      const after = res?.requeueAfterMs ?? 0;
      log.debug({ requeueAfterMs: after, ms: clock.now() - started }, 'reconciled');
      if (after > 0) {
        result = 'requeue_after';
        this.queue.addAfter(key, after);
      }
    } catch (err) {
      result = 'error';
      metrics.reconcileErrors.inc(labels);
      if (err instanceof TerminalError) {
        this.#conflicts.delete(key);
        metrics.terminalErrors.inc(labels);
        this.queue.forget(key);
        log.error({ err: errorSummary(err), reason: err.reason }, 'reconcile failed permanently; not retrying');
      } else if (isKubeApiError(err, 409)) {
        // The object changed since the cache read it, and the cache catches up within moments:
        // retried after 1 s, doubling to 30 s while conflicts go on, and not on the error backoff,
        // which failures during an apiserver outage can have grown to minutes (the reconcile's own
        // status write is an echo that wakes nothing, so nothing would cut that wait short).
        const n = (this.#conflicts.get(key) ?? 0) + 1;
        this.#conflicts.set(key, n);
        this.queue.forget(key);
        this.queue.addAfter(key, Math.min(CONFLICT_RETRY_MS * 2 ** (n - 1), CONFLICT_RETRY_MAX_MS));
        log.info({ conflicts: n }, 'objects changed since they were read; reading them again shortly');
      } else {
        this.#conflicts.delete(key);
        this.queue.addRateLimited(key);
        log.warn({ err: errorSummary(err), retries: this.queue.numRequeues(key) }, 'reconcile failed; will retry');
      }
    } finally {
      metrics.activeWorkers.dec(labels);
      metrics.reconcileTotal.inc({ ...labels, result });
      metrics.reconcileTime.observe(labels, (clock.now() - started) / 1000);
    }
  }

  #safeKeys(fn: () => string[]): string[] {
    try {
      return fn();
    } catch (err) {
      this.#log.error({ err: errorSummary(err) }, 'keysFor threw; event ignored');
      return [];
    }
  }
}

/** True when two versions of an object differ only in status and bookkeeping metadata. */
function onlyStatusChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): unknown => ({
    ...o,
    status: undefined,
    metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined },
  });
  return jsonEqual(strip(a), strip(b));
}
