import assert from 'node:assert/strict';
import { ManualClock, systemClock } from '../../../src/runtime/clock.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { RunnableGroup } from '../../../src/runtime/runnables.ts';

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

describe('RunnableGroup', function () {
  let clock: ManualClock;
  let group: RunnableGroup;
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown): void => void unhandled.push(err);

  beforeEach(function () {
    clock = new ManualClock();
    group = new RunnableGroup({
      clock,
      logger: createLogger({ level: 'silent' }),
      backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 },
      healthyAfterMs: 60_000,
    });
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async function () {
    await group.stop(100, systemClock);
    process.off('unhandledRejection', onUnhandled);
  });

  it('restarts a runnable that throws after a doubling, capped delay, never as an unhandled rejection', async function () {
    const starts: number[] = [];
    group.add({
      name: 'poller',
      start: () => {
        starts.push(clock.now());
        return Promise.reject(new Error('broker unreachable'));
      },
    });
    group.start('all-replicas');
    await clock.advance(40_000);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    assert.deepEqual(gaps.slice(0, 6), [1000, 2000, 4000, 8000, 8000, 8000]);
    assert.deepEqual(unhandled, []);
  });

  it('a run that stayed up past the healthy time restarts with the first delay again', async function () {
    const starts: number[] = [];
    let n = 0;
    group.add({
      name: 'subscription',
      start: async (signal) => {
        starts.push(clock.now());
        n++;
        // Runs 1 to 3 fail at once; run 4 stays up for two minutes before its connection drops.
        if (n === 4) await new Promise<void>((resolve) => clock.setTimeout(resolve, 120_000));
        if (signal.aborted) return;
        throw new Error('connection dropped');
      },
    });
    group.start('all-replicas');
    await clock.advance(200_000);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    assert.deepEqual(gaps.slice(0, 4), [1000, 2000, 4000, 120_000 + 1000]);
  });

  it('a runnable that returns on its own is done, and not restarted', async function () {
    let runs = 0;
    group.add({ name: 'once', start: () => Promise.resolve(void runs++) });
    group.start('all-replicas');
    await clock.advance(60_000);
    assert.equal(runs, 1);
  });

  it('leader-only runnables start only with the leader; stop aborts every one and waits for it to return', async function () {
    const events: string[] = [];
    const make = (name: string) => ({
      name,
      start: async (signal: AbortSignal) => {
        events.push(`start ${name}`);
        await untilAborted(signal);
        await new Promise<void>((resolve) => setImmediate(resolve));
        events.push(`end ${name}`);
      },
    });
    group.add(make('pool'));
    group.add(make('mqtt'), { leaderOnly: true });
    group.start('all-replicas');
    await clock.advance(0);
    assert.deepEqual(events, ['start pool'], 'a standby runs only the all-replica runnables');
    group.start('leader');
    group.start('leader');
    await clock.advance(0);
    assert.deepEqual(events, ['start pool', 'start mqtt'], 'started once');
    await group.stop(5000, clock);
    assert.deepEqual(events.slice(2).sort(), ['end mqtt', 'end pool'], 'stop() resolved after both returned');
  });

  it('losing leadership aborts the leader-only runnables and keeps the others', async function () {
    const ended: string[] = [];
    const make = (name: string) => ({
      name,
      start: async (signal: AbortSignal) => {
        await untilAborted(signal);
        ended.push(name);
      },
    });
    group.add(make('pool'));
    group.add(make('mqtt'), { leaderOnly: true });
    group.start('all-replicas');
    group.start('leader');
    await clock.advance(0);
    group.abortLeaderOnly();
    await clock.advance(0);
    assert.deepEqual(ended, ['mqtt']);
    group.start('leader');
    await clock.advance(0);
    assert.deepEqual(ended, ['mqtt'], 'not started again in this process');
  });

  it('stop() gives up waiting at its deadline for a runnable that ignores the signal', async function () {
    group.add({ name: 'stuck', start: () => new Promise<void>(() => undefined) });
    group.start('all-replicas');
    await clock.advance(0);
    const stopped = group.stop(3000, clock);
    let done = false;
    void stopped.then(() => (done = true));
    await clock.advance(2999);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(done, true);
  });

  it('refuses two runnables with one name', function () {
    group.add({ name: 'x', start: () => Promise.resolve() });
    assert.throws(() => group.add({ name: 'x', start: () => Promise.resolve() }), /already added/);
  });
});
