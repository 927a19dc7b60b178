import assert from 'node:assert/strict';
import { KeyedMutex, Semaphore, type Priority } from '../../../src/clients/common/limits.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Semaphore', () => {
  it('never runs more than the limit at once and serves waiters in order', async () => {
    const sem = new Semaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let peak = 0;
    const runs = gates.map((g, i) =>
      sem.run(async () => {
        started.push(i);
        peak = Math.max(peak, sem.active);
        await g.promise;
      }),
    );
    await tick();
    assert.deepEqual(started, [0, 1]);
    assert.equal(sem.waiting, 2);
    gates[1]!.resolve();
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    gates[3]!.resolve();
    await Promise.all(runs);
    assert.equal(peak, 2);
    assert.equal(sem.active, 0);
  });

  it('frees the slot when the task throws', async () => {
    const sem = new Semaphore(1);
    await assert.rejects(
      sem.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(await sem.run(() => Promise.resolve(7)), 7);
  });

  // A guard write or an allocate that something waits on must not queue behind a burst of status
  // writes or marks, and those not behind a burst of Events.
  it('gives a free slot to urgent work first, then ordinary, and background last, each lane in order', async () => {
    const sem = new Semaphore(1);
    const order: string[] = [];
    const first = deferred();
    const running = sem.run(() => first.promise.then(() => void order.push('first')));
    const push = (priority: Priority, n: string) => sem.run(() => Promise.resolve(void order.push(n)), priority);
    const queued = [
      push('background', 'event1'),
      push('ordinary', 'status1'),
      push('background', 'event2'),
      push('ordinary', 'status2'),
      push('urgent', 'guard'),
    ];
    assert.equal(sem.waiting, 5);
    first.resolve();
    await Promise.all([running, ...queued]);
    assert.deepEqual(order, ['first', 'guard', 'status1', 'status2', 'event1', 'event2']);
    assert.equal(sem.waiting, 0);
  });

  it('never runs more than its limit at once across lanes, and passes a slot on after a failure', async () => {
    const sem = new Semaphore(3);
    let running = 0;
    let most = 0;
    const lanes: Priority[] = ['urgent', 'ordinary', 'background'];
    const work = (i: number) =>
      sem.run(
        async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
          if (i % 5 === 0) throw new Error(`request ${i} failed`);
          return i;
        },
        lanes[i % 4],
      );
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => work(i)));
    assert.equal(most, 3);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 6);
    assert.equal(sem.waiting, 0);
    assert.equal(sem.active, 0);
  });
});

describe('KeyedMutex', () => {
  it('serialises work on one key and lets other keys run alongside', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    const gate = deferred();
    const a1 = mutex.run('edge:a', async () => {
      order.push('a1 start');
      await gate.promise;
      order.push('a1 end');
    });
    const a2 = mutex.run('edge:a', () => {
      order.push('a2');
      return Promise.resolve();
    });
    const b = mutex.run('edge:b', () => {
      order.push('b');
      return Promise.resolve();
    });
    await tick();
    assert.deepEqual(order, ['a1 start', 'b']);
    gate.resolve();
    await Promise.all([a1, a2, b]);
    assert.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
    assert.deepEqual(mutex.busyKeys, []);
  });

  it('moves on to the next holder after a failure', async () => {
    const mutex = new KeyedMutex();
    const failed = mutex.run('k', () => Promise.reject(new Error('first failed')));
    const next = mutex.run('k', () => Promise.resolve('second ran'));
    await assert.rejects(failed, /first failed/);
    assert.equal(await next, 'second ran');
  });

  it('lets the next holder in when a run hands over, and tells it the run is still finishing', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    const gate = deferred();
    const first = mutex.run('space', async (turn) => {
      assert.equal(turn.unfinished, undefined);
      turn.handOver();
      await gate.promise;
      order.push('first end');
    });
    let unfinished: Promise<void> | undefined;
    const second = mutex.run('space', async (turn) => {
      order.push('second start');
      unfinished = turn.unfinished;
      await turn.unfinished;
      order.push('second saw first end');
    });
    const third = mutex.run('space', (turn) => {
      order.push(`third start, unfinished ${turn.unfinished === undefined ? 'none' : 'some'}`);
      return Promise.resolve();
    });
    await tick();
    assert.deepEqual(order, ['second start']);
    assert.ok(unfinished);
    gate.resolve();
    await Promise.all([first, second, third]);
    // The second did not hand over, so the third waited for its end and was told of nothing unfinished.
    assert.deepEqual(order, ['second start', 'first end', 'second saw first end', 'third start, unfinished none']);
    assert.deepEqual(mutex.busyKeys, []);
  });

  it('tells a holder let in after the run before it ended of nothing unfinished', async () => {
    const mutex = new KeyedMutex();
    const first = mutex.run('k', (turn) => {
      turn.handOver();
      return Promise.resolve();
    });
    await first;
    await mutex.run('k', (turn) => {
      assert.equal(turn.unfinished, undefined);
      return Promise.resolve();
    });
    assert.deepEqual(mutex.busyKeys, []);
  });
});
