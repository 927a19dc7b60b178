// Refusals the cloud will repeat until the spec changes (an address outside every range, a prefix
// length with no sequence): remembered per object generation so they are retried on a growing
// period, not every time the object's own status or annotation writes wake its controller.
import type { Clock, KubeObject } from '../runtime/index.ts';

export interface RefusalOptions {
  clock: Clock;
  /** First retry after this long; doubles per refusal. Default 30 s. */
  initialMs?: number;
  /** Never longer than this. Default 10 min. */
  maxMs?: number;
}

export class Refusals {
  readonly #clock: Clock;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #byUid = new Map<string, { generation: number; count: number; until: number }>();

  constructor(opts: RefusalOptions) {
    this.#clock = opts.clock;
    this.#initialMs = opts.initialMs ?? 30_000;
    this.#maxMs = opts.maxMs ?? 600_000;
  }

  /** Until when the object must not be sent again, or undefined when it may be. */
  blockedUntil(obj: KubeObject): number | undefined {
    const r = this.#byUid.get(obj.metadata?.uid ?? '');
    if (!r) return undefined;
    if (r.generation !== (obj.metadata?.generation ?? 0)) {
      this.#byUid.delete(obj.metadata?.uid ?? '');
      return undefined;
    }
    return r.until > this.#clock.now() ? r.until : undefined;
  }

  /** Records a refusal; returns how long until the next attempt. */
  note(obj: KubeObject): number {
    const uid = obj.metadata?.uid ?? '';
    const generation = obj.metadata?.generation ?? 0;
    const prev = this.#byUid.get(uid);
    const count = prev && prev.generation === generation ? prev.count + 1 : 1;
    const delay = Math.min(this.#maxMs, this.#initialMs * 2 ** (count - 1));
    this.#byUid.set(uid, { generation, count, until: this.#clock.now() + delay });
    return delay;
  }

  forget(obj: KubeObject): void {
    this.#byUid.delete(obj.metadata?.uid ?? '');
  }

  /** Drops entries of objects no longer alive (the map stays the size of the cache). */
  retain(liveUids: ReadonlySet<string>): void {
    for (const uid of this.#byUid.keys()) if (!liveUids.has(uid)) this.#byUid.delete(uid);
  }
}
