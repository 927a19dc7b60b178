// A supervised informer: an in-memory cache of one resource type kept current by list+watch,
// that never gives up. It relists on 410, reconnects with backoff on any error, restarts a watch
// that has gone silent (no event, no bookmark) and can replay its cache periodically (resync).
import type { Logger } from 'pino';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.ts';
import { isKubeApiError, KubeApiError } from './errors.ts';
import type { ListWatcher, WatchEvent } from './list-watcher.ts';
import { stripManagedFields } from './trim.ts';
import { objectKey, type KubeObject } from './types.ts';

export interface InformerHandler<T> {
  add?(obj: T): void;
  /** Also called with old === new for every cached object on resync. */
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export type IndexFunc<T> = (obj: T) => string[];

export interface InformerOptions<T> {
  /** Shown in logs. */
  name?: string;
  clock?: Clock;
  logger?: Logger;
  /** Replays every cached object to handlers this often; 0 or absent: never. */
  resyncPeriodMs?: number;
  /**
   * A watch with no event and no bookmark for this long is restarted. Default 5 min: kube-apiserver
   * 1.36 sends the first bookmark of an idle watch after about 2 min, then one a minute.
   */
  stallTimeoutMs?: number;
  /** Reconnect backoff after errors. Default 800 ms doubling to 30 s, 20 % jitter. */
  backoff?: BackoffOptions;
  /** Applied to every object before caching; the default drops managedFields and last-applied-configuration. */
  transform?: (obj: T) => T;
}

export interface InformerStats {
  lists: number;
  /** Relists caused by an expired resourceVersion (410). */
  expired: number;
  /** Watch errors followed by a backoff. */
  errors: number;
  /** Watches restarted by the stall watchdog. */
  stalls: number;
  lastEventAt: number;
  /** The last list/watch failure since the cache last listed successfully (a 403 says RBAC refuses). */
  lastError?: { message: string; code?: number };
}

class StallError extends Error {
  override readonly name = 'StallError';
}

export class SupervisedInformer<T extends KubeObject> {
  readonly name: string;
  readonly #lw: ListWatcher<T>;
  readonly #clock: Clock;
  readonly #log: Logger | undefined;
  readonly #resyncMs: number;
  readonly #stallMs: number;
  readonly #backoff: BackoffOptions;
  readonly #transform: (obj: T) => T;
  readonly #store = new Map<string, T>();
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #indexFns = new Map<string, IndexFunc<T>>();
  readonly #indices = new Map<string, Map<string, Set<string>>>();
  /** Plain index name → the owner-scoped names it was declared under. */
  readonly #scoped = new Map<string, Set<string>>();
  readonly #stats: InformerStats = { lists: 0, expired: 0, errors: 0, stalls: 0, lastEventAt: 0 };
  #synced = false;
  #syncWaiters: Array<() => void> = [];
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #resyncTimer: TimerHandle | undefined;
  /** The version to resume watching from; undefined means "list first". */
  #rv: string | undefined;

  constructor(lw: ListWatcher<T>, opts: InformerOptions<T> = {}) {
    this.#lw = lw;
    this.name = opts.name ?? 'informer';
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger?.child({ informer: this.name });
    this.#resyncMs = opts.resyncPeriodMs ?? 0;
    this.#stallMs = opts.stallTimeoutMs ?? 300_000;
    this.#backoff = opts.backoff ?? {};
    this.#transform = opts.transform ?? stripManagedFields;
  }

  /** Registers event handlers; a handler added after sync gets add() for every cached object. */
  on(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    if (this.#synced) for (const obj of this.#store.values()) this.#call(() => handler.add?.(obj));
    return () => this.#handlers.delete(handler);
  }

  /**
   * Adds an index; allowed at any time (the index is built from the current cache). With an
   * `owner` (the controller that declared it) the index is stored as `owner/name`, so two
   * controllers may each declare `byConnection` on one shared informer without colliding.
   */
  addIndexer(name: string, fn: IndexFunc<T>, owner?: string): void {
    const stored = owner ? scopedIndexName(owner, name) : name;
    if (this.#indexFns.has(stored)) throw new Error(`informer ${this.name}: index ${stored} already exists`);
    this.#indexFns.set(stored, fn);
    this.#indices.set(stored, new Map());
    if (owner) {
      let scoped = this.#scoped.get(name);
      if (!scoped) this.#scoped.set(name, (scoped = new Set()));
      scoped.add(stored);
    }
    for (const [key, obj] of this.#store) this.#indexOne(stored, fn, key, obj, true);
  }

  /**
   * Cached objects whose index `name` yields `value`. `name` is an index added without owner, an
   * `owner/name`, or a plain name only one owner declared (callers written before indexes were
   * scoped); a plain name two owners declared is refused, as the answer would be a guess.
   */
  byIndex(name: string, value: string): T[] {
    const index = this.#indices.get(name) ?? this.#indices.get(this.#unscoped(name));
    if (!index) throw new Error(`informer ${this.name}: no index ${name}`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const obj = this.#store.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  #unscoped(name: string): string {
    const scoped = [...(this.#scoped.get(name) ?? [])];
    if (scoped.length > 1)
      throw new Error(`informer ${this.name}: index ${name} is declared by several controllers (${scoped.join(', ')}); look it up by its scoped name`);
    return scoped[0] ?? name;
  }

  /** The cached object for a `namespace/name` (or `name`) key. Treat it as read-only. */
  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.#store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.#stats };
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** Starts the list/watch loop in the background; idempotent. */
  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  async stop(): Promise<void> {
    this.#abort?.abort(new Error('informer stopped'));
    this.#resyncTimer?.cancel();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (this.#rv === undefined) {
          this.#rv = await this.#relist(signal);
          failures = 0;
        }
        const started = this.#clock.now();
        const events = await this.#watchOnce(this.#rv, signal);
        if (events > 0) failures = 0;
        // A watch the server ends at once, with nothing to say, is treated like an error so a
        // misbehaving server cannot spin this loop.
        if (events === 0 && this.#clock.now() - started < 1000 && !signal.aborted) {
          failures++;
          await sleep(this.#clock, backoffDelay(failures, this.#backoff), signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeApiError && err.gone) {
          this.#stats.expired++;
          this.#log?.info({ rv: this.#rv }, 'resourceVersion expired; relisting');
          this.#rv = undefined;
          continue;
        }
        if (err instanceof StallError) {
          this.#stats.stalls++;
          this.#log?.warn({ rv: this.#rv, stallTimeoutMs: this.#stallMs }, 'watch silent too long; restarting it');
          continue;
        }
        failures++;
        this.#stats.errors++;
        this.#stats.lastError = errorSummary(err);
        const delay = backoffDelay(failures, this.#backoff);
        this.#log?.warn({ err: errorSummary(err), rv: this.#rv, retryInMs: delay }, 'list/watch failed; retrying');
        try {
          await sleep(this.#clock, delay, signal);
        } catch {
          break;
        }
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<string> {
    const { items, resourceVersion } = await this.#lw.list(signal);
    this.#stats.lists++;
    delete this.#stats.lastError;
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = this.#transform(raw);
      const key = objectKey(obj);
      seen.add(key);
      this.#upsert(key, obj);
    }
    // Objects gone since the last list were deleted while we were not watching.
    for (const [key, obj] of [...this.#store]) {
      if (!seen.has(key)) this.#remove(key, obj);
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
      this.#scheduleResync();
    }
    return resourceVersion;
  }

  /** Watches once from startRv, advancing this.#rv per event; returns the number of events. */
  async #watchOnce(startRv: string, outer: AbortSignal): Promise<number> {
    const ctl = new AbortController();
    const onOuterAbort = (): void => ctl.abort(outer.reason);
    outer.addEventListener('abort', onOuterAbort, { once: true });
    let events = 0;
    let failure: Error | undefined;
    let watchdog: TimerHandle | undefined;
    const arm = (): void => {
      watchdog?.cancel();
      watchdog = this.#clock.setTimeout(() => {
        failure ??= new StallError(`no watch event for ${this.#stallMs} ms`);
        ctl.abort(failure);
      }, this.#stallMs);
    };
    const onEvent = (e: WatchEvent<T>): void => {
      if (ctl.signal.aborted) return;
      events++;
      this.#stats.lastEventAt = this.#clock.now();
      arm();
      if (e.type === 'ERROR') {
        failure ??= new KubeApiError('WATCH', this.name, e.object.code ?? 500, e.object);
        ctl.abort(failure);
        return;
      }
      const newRv = e.object.metadata?.resourceVersion;
      if (newRv) this.#rv = newRv;
      if (e.type === 'BOOKMARK') return;
      const obj = this.#transform(e.object);
      const key = objectKey(obj);
      if (e.type === 'DELETED') {
        this.#remove(key, this.#store.get(key) ?? obj);
      } else {
        this.#upsert(key, obj);
      }
    };
    arm();
    try {
      await this.#lw.watch(startRv, onEvent, ctl.signal);
    } catch (err) {
      failure ??= err as Error;
    } finally {
      watchdog?.cancel();
      outer.removeEventListener('abort', onOuterAbort);
    }
    if (failure && !outer.aborted) throw failure;
    return events;
  }

  #upsert(key: string, obj: T): void {
    const old = this.#store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.#store.set(key, obj);
    this.#reindex(key, old, obj);
    if (old) this.#emit((h) => h.update?.(old, obj));
    else this.#emit((h) => h.add?.(obj));
  }

  #remove(key: string, obj: T): void {
    const had = this.#store.get(key);
    if (!had) return;
    this.#store.delete(key);
    this.#reindex(key, had, undefined);
    this.#emit((h) => h.delete?.(obj));
  }

  #reindex(key: string, oldObj: T | undefined, newObj: T | undefined): void {
    for (const [name, fn] of this.#indexFns) {
      if (oldObj) this.#indexOne(name, fn, key, oldObj, false);
      if (newObj) this.#indexOne(name, fn, key, newObj, true);
    }
  }

  #indexOne(name: string, fn: IndexFunc<T>, key: string, obj: T, add: boolean): void {
    const index = this.#indices.get(name);
    if (!index) return;
    let values: string[] = [];
    try {
      values = fn(obj);
    } catch (err) {
      this.#log?.error({ err: errorSummary(err), index: name, key }, 'index function threw');
    }
    for (const v of values) {
      let set = index.get(v);
      if (add) {
        if (!set) index.set(v, (set = new Set()));
        set.add(key);
      } else if (set) {
        set.delete(key);
        if (!set.size) index.delete(v);
      }
    }
  }

  #scheduleResync(): void {
    if (this.#resyncMs <= 0) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      if (this.#abort?.signal.aborted) return;
      for (const obj of this.#store.values()) this.#emit((h) => h.update?.(obj, obj));
      this.#scheduleResync();
    }, this.#resyncMs);
  }

  #emit(fn: (h: InformerHandler<T>) => void): void {
    for (const h of this.#handlers) this.#call(() => fn(h));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log?.error({ err: errorSummary(err) }, 'informer handler threw');
    }
  }
}

/** Enough of an error to log without dumping response bodies that could hold anything. */
/** The name an index declared by `owner` is stored under. */
export function scopedIndexName(owner: string, name: string): string {
  return `${owner}/${name}`;
}

export function errorSummary(err: unknown): { message: string; code?: number } {
  if (isKubeApiError(err)) return { message: err.message, code: err.code };
  return { message: err instanceof Error ? err.message : String(err) };
}
