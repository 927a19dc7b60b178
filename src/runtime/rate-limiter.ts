// Work-queue rate limiting as in client-go: per-key exponential backoff (5 ms doubling to
// 1000 s) combined with an overall token bucket (10 qps, burst 100); the longer delay wins.
import { systemClock, type Clock } from './clock.ts';

export interface RateLimiter {
  /** How long to wait before the key is processed again. */
  when(key: string): number;
  /** Clears the key's failure history (call after a success). */
  forget(key: string): void;
  /** Failures recorded for the key since it was last forgotten. */
  retries(key: string): number;
}

export class ItemExponentialRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #failures = new Map<string, number>();

  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    // 2^n overflows to Infinity long after the cap is reached, which Math.min absorbs.
    return Math.min(this.#maxMs, this.#baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** A token bucket shared by all keys: each when() reserves one token and returns the wait for it. */
export class TokenBucketRateLimiter implements RateLimiter {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(qps = 10, burst = 100, clock: Clock = systemClock) {
    this.#qps = qps;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_key: string): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    // A negative balance is a reservation: the caller waits until it is paid back.
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  forget(_key: string): void {}

  retries(_key: string): number {
    return 0;
  }
}

export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.#limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.#limiters) l.forget(key);
  }

  retries(key: string): number {
    return Math.max(0, ...this.#limiters.map((l) => l.retries(key)));
  }
}

/** controller-runtime's default: max(per-key 5 ms → 1000 s, bucket 10 qps / burst 100). */
export function defaultControllerRateLimiter(clock: Clock = systemClock): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new TokenBucketRateLimiter(10, 100, clock));
}
