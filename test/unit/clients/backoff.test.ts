import assert from 'node:assert/strict';
import { backoffDelay, parseRetryAfter, type BackoffPolicy } from '../../../src/clients/common/backoff.ts';

const policy: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 0.5 };

describe('backoff', () => {
  it('grows exponentially and is capped at maxDelayMs', () => {
    const noJitter = { ...policy, jitter: 0 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(noJitter, n, () => 0.7)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it('randomises only the jitter fraction of the delay', () => {
    // retry 2: exponential delay 400, half of it jittered -> [200, 400)
    assert.equal(
      backoffDelay(policy, 2, () => 0),
      200,
    );
    assert.equal(
      backoffDelay(policy, 2, () => 0.5),
      300,
    );
    assert.equal(
      backoffDelay(policy, 2, () => 0.999),
      400,
    );
  });

  it('full jitter spans zero to the exponential delay', () => {
    const full = { ...policy, jitter: 1 };
    assert.equal(
      backoffDelay(full, 1, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(full, 1, () => 0.25),
      50,
    );
  });

  it('never comes back sooner than a server Retry-After', () => {
    assert.equal(
      backoffDelay(policy, 0, () => 0, 3000),
      3000,
    );
    assert.equal(
      backoffDelay(policy, 3, () => 0.999, 10),
      800,
    );
  });

  it('parses Retry-After in seconds and as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('2', now), 2000);
    assert.equal(parseRetryAfter('0.5', now), 500);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});
