// A cap on the apiserver requests in flight, with two lanes: an urgent request (a guard write that
// a cloud call is waiting for) takes the next free slot before any queued ordinary one (status
// writes, events, clean-ups), so a burst of those cannot hold an IP Space idle.

export class RequestSlots {
  readonly #limit: number;
  #active = 0;
  readonly #urgent: Array<() => void> = [];
  readonly #ordinary: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`request slots must be a positive integer, got ${limit}`);
    this.#limit = limit;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#urgent.length + this.#ordinary.length;
  }

  async run<T>(urgent: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => (urgent ? this.#urgent : this.#ordinary).push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake it.
      const next = this.#urgent.shift() ?? this.#ordinary.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
