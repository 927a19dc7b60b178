// Guard writes that a cloud call waits for must not queue behind a burst of status writes, and
// status writes not behind a burst of Events.
import assert from 'node:assert/strict';
import { RequestSlots, type RequestPriority } from '../../../src/runtime/request-slots.ts';

describe('RequestSlots', function () {
  it('gives a free slot to urgent requests first, then status writes, then clean-ups, and to Events last, each lane in order', async function () {
    const slots = new RequestSlots(1);
    const order: string[] = [];
    let release!: () => void;
    const first = slots.run('ordinary', () => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const push = (priority: RequestPriority, n: string) => slots.run(priority, () => Promise.resolve(void order.push(n)));
    const queued = [
      push('deferred', 'unguard1'),
      push('background', 'event1'),
      push('ordinary', 'status1'),
      push('background', 'event2'),
      push('ordinary', 'status2'),
      push('urgent', 'guard'),
      push('deferred', 'unguard2'),
    ];
    assert.equal(slots.waiting, 7);
    release();
    await Promise.all([first, ...queued]);
    assert.deepEqual(order, ['first', 'guard', 'status1', 'status2', 'unguard1', 'unguard2', 'event1', 'event2']);
    assert.equal(slots.waiting, 0);
  });

  it('never runs more than its limit at once, and passes a slot on after a failure', async function () {
    const slots = new RequestSlots(3);
    let running = 0;
    let most = 0;
    const work = (i: number) =>
      slots.run(i % 4 === 0 ? 'urgent' : i % 3 === 0 ? 'background' : 'ordinary', async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        if (i % 5 === 0) throw new Error(`request ${i} failed`);
        return i;
      });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => work(i)));
    assert.equal(most, 3);
    assert.equal(results.filter((r) => r.status === 'rejected').length, 6);
    assert.equal(slots.waiting, 0);
  });
});
