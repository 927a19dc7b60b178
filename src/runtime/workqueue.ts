// A work queue of string keys with client-go semantics: a key waits at most once (dirty set), is
// never handed to two workers at once (processing set; re-adds while processing are parked and
// re-queued on done), and can be re-added after a delay or with rate-limited backoff.
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.ts';

/** Observations for metrics; all optional. Durations are in seconds. */
export interface WorkQueueMetrics {
  depth?(n: number): void;
  add?(): void;
  retry?(): void;
  queueDuration?(seconds: number): void;
  workDuration?(seconds: number): void;
}

export interface WorkQueueOptions {
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #metrics: WorkQueueMetrics;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  /** When each waiting key was added, for queue-duration metrics. */
  readonly #addedAt = new Map<string, number>();
  readonly #startedAt = new Map<string, number>();
  /** Delayed adds: one timer per key, the earliest requested wins. */
  readonly #delayed = new Map<string, { at: number; timer: TimerHandle }>();
  #getters: Array<(key: string | undefined) => void> = [];
  #idleWaiters: Array<() => void> = [];
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.name = opts.name ?? 'queue';
    this.#clock = opts.clock ?? systemClock;
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter(this.#clock);
    this.#metrics = opts.metrics ?? {};
  }

  /** Keys waiting to be handed out (not counting delayed or in-process keys). */
  len(): number {
    return this.#queue.length;
  }

  /** Keys currently handed out and not yet done. */
  processing(): number {
    return this.#processing.size;
  }

  /** Keys waiting on a delay (addAfter / addRateLimited). */
  delayed(): number {
    return this.#delayed.size;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#metrics.add?.();
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#enqueue(key);
  }

  /** Adds the key after ms; if it is already waiting on an earlier delay, that one stands. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, timer });
  }

  /** Adds the key after the rate limiter's delay: per-key backoff combined with the token bucket. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.retry?.();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Forgets the key's failures: its next addRateLimited starts from the base delay again. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.retries(key);
  }

  /** The next key, waiting until one is available; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.#take();
    if (key !== undefined || this.#shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks the key's processing finished; a re-add that arrived meanwhile is queued now. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#metrics.workDuration?.((this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  /**
   * Stops intake: adds are ignored, waiting and delayed keys are dropped, getters receive
   * undefined. Keys being processed may still call done().
   */
  shutdown(): void {
    this.#shuttingDown = true;
    for (const d of this.#delayed.values()) d.timer.cancel();
    this.#delayed.clear();
    this.#queue.length = 0;
    this.#dirty.clear();
    this.#addedAt.clear();
    this.#metrics.depth?.(0);
    for (const g of this.#getters.splice(0)) g(undefined);
  }

  /** Resolves when no key is being processed. */
  drained(): Promise<void> {
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #enqueue(key: string): void {
    this.#addedAt.set(key, this.#clock.now());
    const getter = this.#getters.shift();
    if (getter) {
      this.#queue.push(key);
      getter(this.#take());
      return;
    }
    this.#queue.push(key);
    this.#metrics.depth?.(this.#queue.length);
  }

  #take(): string | undefined {
    const key = this.#queue.shift();
    if (key === undefined) return undefined;
    this.#metrics.depth?.(this.#queue.length);
    this.#dirty.delete(key);
    this.#processing.add(key);
    const now = this.#clock.now();
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#metrics.queueDuration?.((now - added) / 1000);
    this.#startedAt.set(key, now);
    return key;
  }
}
