// A cap on the apiserver requests in flight, with three lanes. An urgent request (a guard write
// that a cloud call is waiting for) takes the next free slot before anything queued; background
// ones (Events) only when nothing else waits. Status writes and clean-ups are ordinary: a burst of
// Events cannot delay them, and neither can hold an IP Space idle.

export type RequestPriority = 'urgent' | 'ordinary' | 'background';

export class RequestSlots {
  readonly #limit: number;
  #active = 0;
  readonly #queues: Record<RequestPriority, Array<() => void>> = { urgent: [], ordinary: [], background: [] };

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`request slots must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#queues.urgent.length + this.#queues.ordinary.length + this.#queues.background.length;
  }

  async run<T>(priority: RequestPriority, fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#queues[priority].push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.#queues.urgent.shift() ?? this.#queues.ordinary.shift() ?? this.#queues.background.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
