// A cap on the apiserver requests in flight, with lanes. An urgent request (a guard write that a
// cloud call is waiting for) takes the next free slot before anything queued; status writes come
// next; then tidying up after an outcome already reported (a guard cleared once its claim is
// Ready), which nobody is waiting to see; Events only when nothing else waits. So a burst of
// Events cannot delay a status write, and neither can hold an IP Space idle.

export type RequestPriority = 'urgent' | 'ordinary' | 'deferred' | 'background';

const LANES: readonly RequestPriority[] = ['urgent', 'ordinary', 'deferred', 'background'];

export class RequestSlots {
  readonly #limit: number;
  #active = 0;
  readonly #queues: Record<RequestPriority, Array<() => void>> = { urgent: [], ordinary: [], deferred: [], background: [] };

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`request slots must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return LANES.reduce((n, lane) => n + this.#queues[lane].length, 0);
  }

  async run<T>(priority: RequestPriority, fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#queues[priority].push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      let next: (() => void) | undefined;
      for (const lane of LANES) if ((next = this.#queues[lane].shift())) break;
      if (next) next();
      else this.#active--;
    }
  }
}
