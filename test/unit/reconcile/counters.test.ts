import assert from 'node:assert/strict';
import { ResettingCounters } from '../../../src/reconcile/counters.ts';

const read = (nodes: Record<string, number>) => new Map(Object.entries(nodes).map(([n, v]) => [n, { values: { bytes: v } }]));

describe('ResettingCounters', () => {
  it('takes the first read as a baseline and adds growth after it', () => {
    const c = new ResettingCounters();
    assert.deepEqual(c.observe('if', read({ a: 1000, b: 0 })).increments, {});
    assert.deepEqual(c.observe('if', read({ a: 1500, b: 0 })).increments, { bytes: 500 });
  });

  it('counts a reset node from zero and never goes backwards (edge reboot)', () => {
    const c = new ResettingCounters();
    c.observe('if', read({ a: 1000 }));
    const u = c.observe('if', read({ a: 200 }));
    assert.deepEqual(u.increments, { bytes: 200 });
    assert.deepEqual(u.resets, ['a']);
    assert.deepEqual(c.observe('if', read({ a: 300 })).increments, { bytes: 100 });
  });

  it('sums per-node growth once across a failover: the old active stays, the standby counts from zero', () => {
    const c = new ResettingCounters();
    c.observe('if', read({ a: 5000, b: 0 }));
    // Failover: a keeps its counters, b (now active) restarted from 0 and carried 700.
    const u = c.observe('if', read({ a: 5000, b: 700 }));
    assert.deepEqual(u.increments, { bytes: 700 });
    assert.deepEqual(u.resets, []);
    const v = c.observe('if', read({ a: 5000, b: 10 }));
    assert.deepEqual(v.increments, { bytes: 10 });
    assert.deepEqual(v.resets, ['b']);
  });

  it('counts a node that appears after the first read from zero', () => {
    const c = new ResettingCounters();
    c.observe('if', read({ a: 100 }));
    assert.deepEqual(c.observe('if', read({ a: 100, b: 250 })).increments, { bytes: 250 });
  });

  it('starts over for a series it was told to forget', () => {
    const c = new ResettingCounters();
    c.observe('if', read({ a: 100 }));
    c.retain(new Set());
    assert.deepEqual(c.observe('if', read({ a: 900 })).increments, {});
  });
});
