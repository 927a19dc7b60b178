// Guard writes that a cloud call waits for must not queue behind a burst of status writes.
import assert from 'node:assert/strict';
import { RequestSlots } from '../../../src/runtime/request-slots.ts';

describe('RequestSlots', function () {
  it('gives the next free slot to an urgent request before ordinary ones queued earlier', async function () {
    const slots = new RequestSlots(1);
    const order: string[] = [];
    let release!: () => void;
    const first = slots.run(false, () => new Promise<void>((r) => (release = r)).then(() => void order.push('first')));
    const queued = ['a', 'b', 'c'].map((n) => slots.run(false, () => Promise.resolve(void order.push(n))));
    const urgent = slots.run(true, () => Promise.resolve(void order.push('urgent')));
    assert.equal(slots.waiting, 4);
    release();
    await Promise.all([first, urgent, ...queued]);
    assert.deepEqual(order, ['first', 'urgent', 'a', 'b', 'c']);
    assert.equal(slots.waiting, 0);
  });

  it('never runs more than its limit at once, and passes a slot on after a failure', async function () {
    const slots = new RequestSlots(3);
    let running = 0;
    let most = 0;
    const work = (i: number) =>
      slots.run(i % 4 === 0, async () => {
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
