// Concurrency primitives: a counting semaphore with priority lanes (requests in flight per cloud
// connection, and to the apiserver) and a keyed mutex (writes serialised per edge gateway / IP
// Space, which VCD would otherwise reject with BUSY_ENTITY or process in a racy order). A run may
// hand its key over before it ends, when its task usually ends, so that back-to-back writes lose
// no round trip between them.

/**
 * How soon a request waiting for a slot gets one: every waiting 'urgent' request before any
 * 'ordinary' one, and 'background' ones last; in order within a lane. Urgent is for a write
 * something else waits on (a guard before an allocate, an allocate an IP Space is idle for);
 * background for what nobody waits on (Events).
 */
export type Priority = 'urgent' | 'ordinary' | 'background';

const LANES: readonly Priority[] = ['urgent', 'ordinary', 'background'];

/** A counting semaphore whose waiters are served by priority, then in order. */
export class Semaphore {
  readonly #limit: number;
  #active = 0;
  readonly #lanes: Record<Priority, Array<() => void>> = { urgent: [], ordinary: [], background: [] };

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return LANES.reduce((n, lane) => n + this.#lanes[lane].length, 0);
  }

  async run<T>(fn: () => Promise<T>, priority: Priority = 'ordinary'): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#lanes[priority].push(resolve));
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #release(): void {
    // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
    for (const lane of LANES) {
      const next = this.#lanes[lane].shift();
      if (next) return next();
    }
    this.#active--;
  }
}

/** What a KeyedMutex run is told and may do. */
export interface Turn {
  /**
   * Lets the next run with this key start now, while this one finishes (a write whose task
   * usually ends about now). Idempotent; the run's end lets the next in anyway.
   */
  handOver(): void;
  /** The run before this one, when it handed over and has not finished: settles when it has. */
  readonly unfinished: Promise<void> | undefined;
}

interface Slot {
  /** Open once this run and every run before it handed over or ended. */
  gate: Promise<void>;
  finished: Promise<void>;
  isFinished: boolean;
}

export class KeyedMutex {
  readonly #tails = new Map<string, Slot>();

  /** Runs `fn` after every earlier `run` with the same key has settled or handed over. */
  async run<T>(key: string, fn: (turn: Turn) => Promise<T>): Promise<T> {
    const before = this.#tails.get(key);
    let open!: () => void;
    const mine = new Promise<void>((resolve) => (open = resolve));
    let finish!: () => void;
    const slot: Slot = {
      gate: before ? before.gate.then(() => mine) : mine,
      finished: new Promise<void>((resolve) => (finish = resolve)),
      isFinished: false,
    };
    this.#tails.set(key, slot);
    try {
      if (before) await before.gate;
      const unfinished = before && !before.isFinished ? before.finished : undefined;
      return await fn({ handOver: open, unfinished });
    } finally {
      slot.isFinished = true;
      finish();
      open();
      if (this.#tails.get(key) === slot) this.#tails.delete(key);
    }
  }

  /** Keys with work queued or running (for tests and diagnostics). */
  get busyKeys(): string[] {
    return [...this.#tails.keys()];
  }
}
