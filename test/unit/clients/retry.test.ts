import assert from 'node:assert/strict';
import { withRetries, type RetryContext } from '../../../src/clients/common/retry.ts';
import { silentLogger } from '../../../src/clients/common/logger.ts';
import { FakeClock } from './fakeClock.ts';

class Transient extends Error {}

function ctx(clock: FakeClock, over: Partial<RetryContext> = {}): RetryContext {
  return {
    policy: { maxAttempts: 4, backoff: { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0 } },
    clock,
    random: () => 0.5,
    logger: silentLogger,
    service: 'vcd',
    operation: 'test',
    classify: (err) => (err instanceof Transient ? { reason: 'transient' } : undefined),
    ...over,
  };
}

describe('withRetries', () => {
  it('retries retryable failures with growing delays until success', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const result = await withRetries(ctx(clock), () => {
      calls++;
      return calls < 3 ? Promise.reject(new Transient()) : Promise.resolve('ok');
    });
    assert.equal(result, 'ok');
    assert.equal(calls, 3);
    assert.deepEqual(clock.sleeps, [100, 200]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withRetries(ctx(clock), () => {
        calls++;
        return Promise.reject(new Transient(`attempt ${calls}`));
      }),
      /attempt 4/,
    );
    assert.equal(calls, 4);
    assert.deepEqual(clock.sleeps, [100, 200, 400]);
  });

  it('does not retry what the classifier refuses', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withRetries(ctx(clock), () => {
        calls++;
        return Promise.reject(new Error('permanent'));
      }),
      /permanent/,
    );
    assert.equal(calls, 1);
    assert.deepEqual(clock.sleeps, []);
  });

  it('honours the Retry-After the classifier reports', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await withRetries(ctx(clock, { classify: () => ({ reason: '429', retryAfterMs: 2500 }) }), () =>
      ++calls < 2 ? Promise.reject(new Transient()) : Promise.resolve(),
    );
    assert.deepEqual(clock.sleeps, [2500]);
  });

  it('lets a kind of failure bring its own, longer policy', async () => {
    const clock = new FakeClock();
    const busy = { maxAttempts: 7, backoff: { initialDelayMs: 1000, maxDelayMs: 4000, multiplier: 2, jitter: 0 } };
    let calls = 0;
    await assert.rejects(
      withRetries(ctx(clock, { classify: () => ({ reason: 'BUSY_ENTITY', policy: busy }) }), () => {
        calls++;
        return Promise.reject(new Transient('busy'));
      }),
      /busy/,
    );
    assert.equal(calls, 7);
    assert.deepEqual(clock.sleeps, [1000, 2000, 4000, 4000, 4000, 4000]);
  });

  it('starts no retry that would end past the deadline', async () => {
    const clock = new FakeClock();
    let calls = 0;
    await assert.rejects(
      withRetries(ctx(clock, { deadline: clock.now() + 250 }), () => {
        calls++;
        return Promise.reject(new Transient(`attempt ${calls}`));
      }),
      /attempt 2/,
    );
    assert.deepEqual(clock.sleeps, [100]);
  });

  it('stops when the signal is aborted', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    let calls = 0;
    await assert.rejects(
      withRetries(ctx(clock, { signal: ac.signal }), () => {
        calls++;
        ac.abort(new Error('shutting down'));
        return Promise.reject(new Transient());
      }),
      /shutting down/,
    );
    assert.equal(calls, 1);
  });
});
