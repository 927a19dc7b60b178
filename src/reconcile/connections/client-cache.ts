// The kind-independent half of a connection pool: logged-in clients cached by connection key,
// rebuilt when what they were built from changes (the connection's spec, its Secret's
// resourceVersion), a failed login held for a while so many users of a broken connection do not
// each retry it, and every client closed when its connection is forgotten or the pool shuts down.
// A VCD, NSX or vCenter pool is this cache plus how to build its client and who may use it. An
// NSX pool, for instance, is: look the cluster-scoped NSXConnection up, read its Secret from the
// operator namespace with credentialsSecret(), then
//   cache.get(`NSXConnection/${name}`, clientFingerprint(conn, secret), () => NsxClient.connect({...}))
// with a classify() for NSX login errors, and runnable() registered with the manager.
import type { Reason } from '../../api/index.ts';
import { systemClock, type Clock, type Runnable, type TimerHandle } from '../../runtime/index.ts';
import { ConnectionFailure } from './failure.ts';

export interface Closable {
  close(): Promise<void>;
}

export interface ClientCacheOptions {
  /** A failed login is not retried for this long when the caller honours the hold. Default 5 s. */
  failureHoldMs?: number;
  /** How long a replaced client stays open for calls still using it. Default 30 s. */
  retireAfterMs?: number;
  /** Time of failures and of delayed closes; the system clock by default. */
  clock?: Clock;
  /** Maps a build error to a reason and message; ConnectionFailure is kept as it is. */
  classify: (err: unknown) => { reason: Reason; message: string };
}

interface Entry<C> {
  fingerprint: string;
  client: Promise<C>;
  /** The client once its login succeeded. */
  ready?: C;
  failedAt?: number;
  failure?: { reason: Reason; message: string };
}

export class ClientCache<C extends Closable> {
  readonly #o: ClientCacheOptions;
  readonly #entries = new Map<string, Entry<C>>();
  readonly #clock: Clock;
  readonly #retiring = new Set<TimerHandle>();
  readonly #retired: Entry<C>[] = [];

  constructor(opts: ClientCacheOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Number of cached connections (logged in, logging in, or held after a failure). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The client cached under `key` when it was built from the same `fingerprint`; otherwise a new
   * one from `build()`, replacing (and later closing) the old one. Throws ConnectionFailure.
   */
  async get(key: string, fingerprint: string, build: () => Promise<C>, opts: { honourHold?: boolean } = {}): Promise<C> {
    const existing = this.#entries.get(key);
    if (existing && existing.fingerprint === fingerprint) {
      if (!existing.failure) return existing.client;
      const hold = this.#o.failureHoldMs ?? 5000;
      if (opts.honourHold && this.#clock.now() - (existing.failedAt ?? 0) < hold)
        throw new ConnectionFailure(existing.failure.reason, existing.failure.message);
    }
    // A build that throws before its first await is a failed login like any other.
    const client = (async () => build())();
    const entry: Entry<C> = { fingerprint, client };
    // Nobody may see an unhandled rejection from a login that failed while no one awaited it.
    client.then((c) => (entry.ready = c)).catch(() => undefined);
    this.#entries.set(key, entry);
    if (existing) this.#retire(existing);
    try {
      return await client;
    } catch (err) {
      const failure = err instanceof ConnectionFailure ? { reason: err.reason, message: err.message } : this.#o.classify(err);
      entry.failure = failure;
      entry.failedAt = this.#clock.now();
      throw new ConnectionFailure(failure.reason, failure.message);
    }
  }

  /** The clients logged in now, by key (a login in progress or failed is not listed). */
  loggedIn(): Array<{ key: string; client: C }> {
    const out: Array<{ key: string; client: C }> = [];
    for (const [key, e] of this.#entries) if (e.ready && !e.failure) out.push({ key, client: e.ready });
    return out;
  }

  /** Drops a connection that was deleted; its client is closed once in-flight calls had time to finish. */
  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#retire(entry);
  }

  /** Closes every client now, including replaced ones still waiting to close. */
  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const t of this.#retiring) t.cancel();
    this.#retiring.clear();
    await Promise.all([...entries, ...this.#retired.splice(0)].map((e) => e.client.then((c) => c.close()).catch(() => undefined)));
  }

  /** The cache in a manager's lifecycle: it lives as long as the manager and closes every client on stop. */
  runnable(name: string): Runnable {
    return {
      name,
      start: async (signal) => {
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        await this.closeAll();
      },
    };
  }

  #retire(entry: Entry<C>): void {
    // In-flight calls on the old client finish first; nothing waits on the logout.
    this.#retired.push(entry);
    const timer = this.#clock.setTimeout(() => {
      this.#retiring.delete(timer);
      const i = this.#retired.indexOf(entry);
      if (i >= 0) this.#retired.splice(i, 1);
      void entry.client.then((c) => c.close()).catch(() => undefined);
    }, this.#o.retireAfterMs ?? 30_000);
    this.#retiring.add(timer);
  }
}
