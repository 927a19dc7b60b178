// Exponential backoff with jitter. Pure, with the random source injected, so the maths is
// unit-testable and many clients retrying at once spread out instead of stampeding.

export interface BackoffPolicy {
  /** Delay before the first retry, before jitter. */
  initialDelayMs: number;
  /** Upper bound of any single delay, before jitter. */
  maxDelayMs: number;
  /** Growth per attempt (2 doubles). */
  multiplier: number;
  /**
   * Fraction of the delay that is randomised: 0 is no jitter, 1 is "full jitter" (uniform in
   * [0, delay]). 0.5 keeps at least half of the exponential delay.
   */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  multiplier: 2,
  jitter: 0.5,
};

/**
 * Delay before retry number `retry` (0 for the first retry). `random` returns [0, 1).
 * A server's Retry-After, when given, is a floor: we never come back sooner than asked.
 */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number, retryAfterMs?: number): number {
  const exp = policy.initialDelayMs * Math.pow(policy.multiplier, Math.max(0, retry));
  const capped = Math.min(policy.maxDelayMs, exp);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const delay = capped * (1 - jitter) + capped * jitter * random();
  return Math.round(retryAfterMs !== undefined ? Math.max(delay, retryAfterMs) : delay);
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
