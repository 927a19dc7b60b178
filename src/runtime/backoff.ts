// Jittered exponential backoff for reconnect loops (not for work-queue keys; see rate-limiter.ts).

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Fraction of the delay added at random, so many clients do not reconnect in lockstep. */
  jitter?: number;
  random?: () => number;
}

/** Delay before attempt n (1-based) of a failing operation. */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}): number {
  const initial = opts.initialMs ?? 800;
  const max = opts.maxMs ?? 30_000;
  const jitter = opts.jitter ?? 0.2;
  const random = opts.random ?? Math.random;
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + jitter * random()));
}
