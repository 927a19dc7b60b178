// The retry loop shared by the clients. Whether an error is retryable is the caller's decision
// (it knows whether the operation is safe to repeat); the loop only owns counting and waiting.
import type { Clock } from './clock.ts';
import { throwIfAborted } from './clock.ts';
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.ts';
import type { Logger } from './logger.ts';

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  backoff: BackoffPolicy;
}

export const defaultRetry: RetryPolicy = { maxAttempts: 5, backoff: defaultBackoff };

/** What a client's options may override; the rest comes from defaultRetry. */
export interface RetryOptions {
  maxAttempts?: number;
  backoff?: Partial<BackoffPolicy>;
}

export function resolveRetry(opts: RetryOptions | undefined, defaults: RetryPolicy = defaultRetry): RetryPolicy {
  return { maxAttempts: opts?.maxAttempts ?? defaults.maxAttempts, backoff: { ...defaults.backoff, ...opts?.backoff } };
}

/** Returned by a classifier for a retryable failure; undefined means give up. */
export interface RetryDecision {
  reason: string;
  retryAfterMs?: number;
  /** A policy for this kind of failure (e.g. a busy entity deserves a longer wait than a 503). */
  policy?: RetryPolicy;
}

export interface RetryContext {
  policy: RetryPolicy;
  clock: Clock;
  random: () => number;
  logger: Logger;
  service: string;
  operation: string;
  signal?: AbortSignal | undefined;
  /** Absolute time (clock ms) after which no retry starts. */
  deadline?: number | undefined;
  classify: (err: unknown) => RetryDecision | undefined;
}

export async function withRetries<T>(ctx: RetryContext, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    throwIfAborted(ctx.signal);
    try {
      return await attempt(n);
    } catch (err) {
      const decision = ctx.classify(err);
      const policy = decision?.policy ?? ctx.policy;
      if (!decision || n + 1 >= policy.maxAttempts) throw err;
      const delay = backoffDelay(policy.backoff, n, ctx.random, decision.retryAfterMs);
      if (ctx.deadline !== undefined && ctx.clock.now() + delay >= ctx.deadline) throw err;
      ctx.logger.info({ service: ctx.service, operation: ctx.operation, attempt: n + 1, reason: decision.reason, delayMs: delay }, 'retrying cloud request');
      await ctx.clock.sleep(delay, ctx.signal);
    }
  }
}
