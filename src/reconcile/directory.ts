// One name↔id cache for every controller: references by name (an org, an IP Space, an edge
// gateway, a provider gateway) resolve through the connection's lookups once and are trusted for
// a few minutes on the manager's clock. Only found ids are kept: a name that does not resolve is
// looked up again next time (it may have been created since).
import type { Clock } from '../runtime/index.ts';

export interface DirectoryOptions {
  clock: Clock;
  /** How long a resolved id is trusted. Default 5 min. */
  ttlMs?: number;
  /** Entries kept at most; the oldest go first. Default 10,000. */
  maxEntries?: number;
}

export class Directory {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, { value: unknown; at: number }>();

  constructor(opts: DirectoryOptions) {
    this.#clock = opts.clock;
    this.#ttlMs = opts.ttlMs ?? 5 * 60_000;
    this.#max = opts.maxEntries ?? 10_000;
  }

  /**
   * The cached value under `key` (`<connection>|<what>|<ref>`), or what `fetch` finds. Concurrent
   * misses each fetch; the last answer wins, which is harmless for lookups.
   */
  async resolve<V>(key: string, fetch: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.#entries.get(key);
    if (hit && this.#clock.now() - hit.at < this.#ttlMs) return hit.value as V;
    const value = await fetch();
    this.#entries.delete(key);
    if (value !== undefined) {
      this.#entries.set(key, { value, at: this.#clock.now() });
      if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    }
    return value;
  }

  /** Drops entries whose key starts with `prefix` (all when absent): an id turned out stale. */
  forget(prefix = ''): void {
    for (const k of [...this.#entries.keys()]) if (k.startsWith(prefix)) this.#entries.delete(k);
  }
}
