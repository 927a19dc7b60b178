import assert from 'node:assert/strict';
import { flushMicrotasks, ManualClock } from '../../../src/runtime/clock.ts';
import { ItemExponentialRateLimiter, MaxOfRateLimiter, TokenBucketRateLimiter } from '../../../src/runtime/rate-limiter.ts';
import { WorkQueue } from '../../../src/runtime/workqueue.ts';

describe('WorkQueue', function () {
  let clock: ManualClock;
  beforeEach(function () {
    clock = new ManualClock();
  });

  it('dedupes a key added many times while it waits', async function () {
    const q = new WorkQueue({ clock });
    for (let i = 0; i < 50; i++) q.add('a');
    q.add('b');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    assert.equal(q.len(), 0);
  });

  it('never hands one key to two workers: a re-add while processing waits for done()', async function () {
    const q = new WorkQueue({ clock });
    q.add('a');
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a');
    q.add('a');
    assert.equal(q.len(), 0, 'the re-added key is parked, not queued, while it is processed');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flushMicrotasks();
    assert.equal(second, undefined);
    q.done('a');
    await flushMicrotasks();
    assert.equal(second, 'a', 'the parked key is handed out once, after done()');
    q.done('a');
    assert.equal(q.len(), 0);
  });

  it('wakes a waiting getter on add', async function () {
    const q = new WorkQueue({ clock });
    const got = q.get();
    q.add('x');
    assert.equal(await got, 'x');
  });

  it('addAfter delivers after the delay, and the earliest of two delays wins', async function () {
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    assert.equal(q.delayed(), 1);
    await clock.advance(299);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    await clock.advance(10_000);
    assert.equal(q.len(), 0, 'the replaced 1000 ms and 5000 ms timers never fire');
  });

  it('backs off a failing key exponentially from 5 ms, and forget() starts over', async function () {
    const q = new WorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter(5, 1_000_000) });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = clock.now();
      q.addRateLimited('k');
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.now() - t0);
      assert.equal(await q.get(), 'k');
      q.done('k');
    }
    assert.deepEqual(delays, [5, 10, 20, 40, 80, 160]);
    assert.equal(q.numRequeues('k'), 6);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
    const t0 = clock.now();
    q.addRateLimited('k');
    while (q.len() === 0) await clock.advance(1);
    assert.equal(clock.now() - t0, 5);
  });

  it('keeps other keys unaffected by one key’s backoff', async function () {
    const limiter = new ItemExponentialRateLimiter(5, 1_000_000);
    for (let i = 0; i < 9; i++) limiter.when('slow'); // nine failures already
    const q = new WorkQueue({ clock, rateLimiter: limiter });
    q.addRateLimited('slow');
    q.addRateLimited('fresh');
    await clock.advance(5);
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'fresh');
    await clock.advance(5 * 2 ** 9 - 6);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(await q.get(), 'slow');
  });

  it('by default also caps all retries together at 10 per second after a burst of 100', async function () {
    const q = new WorkQueue({ clock }); // defaultControllerRateLimiter on the same clock
    for (let i = 0; i < 120; i++) q.addRateLimited(`k${i}`);
    await clock.advance(5);
    assert.equal(q.len(), 100, 'the burst passes after the 5 ms per-key base delay');
    await clock.advance(995);
    assert.equal(q.len(), 110, 'then one key per 100 ms');
    await clock.advance(1000);
    assert.equal(q.len(), 120);
  });

  it('shutdown stops intake, drops waiting and delayed keys and releases getters', async function () {
    const q = new WorkQueue({ clock });
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    const a = await q.get();
    q.shutdown();
    assert.equal(await q.get(), undefined);
    q.add('d');
    assert.equal(q.len(), 0);
    await clock.advance(1000);
    assert.equal(q.len(), 0);
    let drained = false;
    void q.drained().then(() => (drained = true));
    await flushMicrotasks();
    assert.equal(drained, false, 'a is still being processed');
    q.done(a ?? '');
    await flushMicrotasks();
    assert.equal(drained, true);
  });

  it('reports metrics: adds, depth, retries, queue and work durations', async function () {
    const seen = { adds: 0, retries: 0, depth: [] as number[], queue: [] as number[], work: [] as number[] };
    const q = new WorkQueue({
      clock,
      metrics: {
        add: () => seen.adds++,
        retry: () => seen.retries++,
        depth: (n) => seen.depth.push(n),
        queueDuration: (s) => seen.queue.push(s),
        workDuration: (s) => seen.work.push(s),
      },
    });
    q.add('a');
    q.add('a');
    await clock.advance(2000);
    const k = await q.get();
    await clock.advance(500);
    q.done(k ?? '');
    q.addRateLimited('a');
    assert.equal(seen.adds, 1);
    assert.equal(seen.retries, 1);
    assert.deepEqual(seen.queue, [2]);
    assert.deepEqual(seen.work, [0.5]);
    assert.deepEqual(seen.depth, [1, 0]);
  });
});

describe('rate limiters', function () {
  it('per-key exponential backoff runs 5 ms, 10 ms, ... and caps at 1000 s', function () {
    const l = new ItemExponentialRateLimiter(5, 1_000_000);
    const d = Array.from({ length: 30 }, () => l.when('k'));
    assert.deepEqual(d.slice(0, 4), [5, 10, 20, 40]);
    assert.equal(d[17], 5 * 2 ** 17);
    assert.equal(d[18], 1_000_000);
    assert.equal(d[29], 1_000_000);
    assert.equal(l.when('other'), 5);
  });

  it('token bucket allows a burst of 100 at once, then 10 per second', async function () {
    const clock = new ManualClock();
    const b = new TokenBucketRateLimiter(10, 100, clock);
    const burst = Array.from({ length: 100 }, (_, i) => b.when(`k${i}`));
    assert.ok(burst.every((d) => d === 0));
    assert.deepEqual([b.when('x'), b.when('y'), b.when('z')], [100, 200, 300]);
    await clock.advance(10_000);
    // 10 s refill 100 tokens, 3 of which pay back the reservations above.
    const after = Array.from({ length: 97 }, (_, i) => b.when(`m${i}`));
    assert.ok(after.every((d) => d === 0));
    assert.equal(b.when('n'), 100);
  });

  it('the default combination takes the longer of the two delays', async function () {
    const clock = new ManualClock();
    const l = new MaxOfRateLimiter(new ItemExponentialRateLimiter(5, 1_000_000), new TokenBucketRateLimiter(10, 100, clock));
    assert.equal(l.when('a'), 5, 'per-key backoff dominates while the bucket has tokens');
    for (let i = 0; i < 99; i++) l.when(`b${i}`);
    assert.equal(l.when('c'), 100, 'the empty bucket dominates a fresh key');
    await clock.advance(0);
    l.forget('a');
    assert.equal(l.retries('a'), 0);
  });
});
