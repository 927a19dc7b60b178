import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { memoryReducingGc, releaseMemoryWhenIdle } from '../../../src/runtime/idle-memory.ts';

describe('giving memory back when idle', function () {
  it('releases once after the controllers were idle long enough, never while there is work, and again only after more work', async function () {
    const clock = new ManualClock(0);
    let idleSince: number | undefined;
    let releases = 0;
    const stop = new AbortController();
    const running = releaseMemoryWhenIdle({ clock, idleSince: () => idleSince, afterMs: 30_000, release: () => releases++, checkEveryMs: 5000 }, stop.signal);

    await clock.advance(60_000); // busy the whole time
    assert.equal(releases, 0);
    idleSince = clock.now();
    await clock.advance(25_000);
    assert.equal(releases, 0, 'not before 30 s without work');
    await clock.advance(10_000);
    assert.equal(releases, 1);
    await clock.advance(120_000);
    assert.equal(releases, 1, 'one release per idle period');
    idleSince = undefined; // work again
    await clock.advance(5000);
    idleSince = clock.now();
    await clock.advance(35_000);
    assert.equal(releases, 2);
    stop.abort();
    await clock.advance(5000);
    await running;
  });

  it('gets V8’s memory-reducing GC without exposing gc to the operator’s own context', function () {
    const gc = memoryReducingGc();
    assert.equal(typeof gc, 'function');
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
    gc?.();
  });
});
