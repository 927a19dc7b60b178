import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { KubeApiError } from '../../../src/runtime/errors.ts';
import { SupervisedInformer } from '../../../src/runtime/informer.ts';
import { NamespacedInformers } from '../../../src/runtime/namespaced-informers.ts';
import { FakeListWatcher, thing, type Thing } from './fake-list-watcher.ts';

const forbidden = (): KubeApiError => new KubeApiError('GET', '/api/v1/namespaces/t/secrets', 403, { reason: 'Forbidden', message: 'secrets is forbidden' });

describe('NamespacedInformers (informers per namespace, on demand)', function () {
  let clock: ManualClock;
  let lws: Map<string, FakeListWatcher<Thing>>;
  let opened: string[];
  let closed: string[];
  let set: NamespacedInformers<Thing>;
  let events: string[];
  /** The fake server side of a namespace, made before its informer opens so lists return what the test set. */
  const lwOf = (ns: string): FakeListWatcher<Thing> => {
    let lw = lws.get(ns);
    if (!lw) lws.set(ns, (lw = new FakeListWatcher()));
    return lw;
  };

  beforeEach(function () {
    clock = new ManualClock();
    lws = new Map();
    opened = [];
    closed = [];
    events = [];
    set = new NamespacedInformers<Thing>({
      open: (ns) => {
        opened.push(ns);
        const inf = new SupervisedInformer(lwOf(ns), { clock, name: ns, backoff: { initialMs: 1000, maxMs: 8000, jitter: 0 } });
        inf.start();
        return inf;
      },
      close: async (ns, inf) => {
        closed.push(ns);
        await inf.stop();
      },
    });
    set.on({
      add: (o) => events.push(`add ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`),
      delete: (o) => events.push(`delete ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`),
    });
  });
  afterEach(async function () {
    for (const ns of set.namespaces()) for (const h of ['c1', 'c2']) set.release(ns, h);
    await clock.advance(0);
  });

  it('opens a namespace informer with its first holder, keeps it for the second, closes it when the last goes', async function () {
    assert.equal(set.get('team-a'), undefined);
    lwOf('team-a').current = { items: [thing('creds', '3', {}, 'team-a')], resourceVersion: '5' };
    const a = set.acquire('team-a', 'c1');
    await clock.advance(0);
    assert.equal(set.acquire('team-a', 'c2'), a, 'one informer per namespace');
    assert.deepEqual(opened, ['team-a']);
    assert.equal(a.hasSynced(), true);
    assert.equal(a.get('team-a/creds')?.metadata?.resourceVersion, '3');
    const watch = lwOf('team-a').lastWatch;
    set.release('team-a', 'c1');
    await clock.advance(0);
    assert.deepEqual(closed, [], 'c2 still holds it');
    set.release('team-a', 'c2');
    await clock.advance(0);
    assert.deepEqual(closed, ['team-a']);
    assert.equal(watch.signal.aborted, true, 'its watch is stopped');
    assert.equal(set.get('team-a'), undefined);
    assert.deepEqual(set.namespaces(), []);
  });

  it('releasing a holder twice or one it never had closes nothing', async function () {
    set.acquire('team-a', 'c1');
    set.release('team-a', 'c9');
    set.release('team-b', 'c1');
    await clock.advance(0);
    assert.deepEqual(closed, []);
    assert.deepEqual(set.namespaces(), ['team-a']);
  });

  it('handlers registered before a namespace opens get its events; none after it closed', async function () {
    lwOf('team-a').current = { items: [thing('x', '3', {}, 'team-a')], resourceVersion: '5' };
    lwOf('team-b').current = { items: [thing('y', '4', {}, 'team-b')], resourceVersion: '6' };
    set.acquire('team-a', 'c1');
    set.acquire('team-b', 'c1');
    await clock.advance(0);
    assert.deepEqual(events.sort(), ['add team-a/x', 'add team-b/y']);
    const watchB = lwOf('team-b').lastWatch;
    set.release('team-b', 'c1');
    await clock.advance(0);
    watchB.emit({ type: 'ADDED', object: thing('late', '7', {}, 'team-b') });
    lwOf('team-a').lastWatch.emit({ type: 'ADDED', object: thing('z', '8', {}, 'team-a') });
    assert.deepEqual(events.sort(), ['add team-a/x', 'add team-a/z', 'add team-b/y']);
  });

  it('a handler registered later sees every open informer, and unregisters from all', async function () {
    set.acquire('team-a', 'c1');
    await clock.advance(0);
    const late: string[] = [];
    const off = set.on({ add: (o) => late.push(o.metadata?.name ?? '') });
    set.acquire('team-b', 'c1');
    await clock.advance(0);
    lwOf('team-a').lastWatch.emit({ type: 'ADDED', object: thing('a1', '9', {}, 'team-a') });
    lwOf('team-b').lastWatch.emit({ type: 'ADDED', object: thing('b1', '9', {}, 'team-b') });
    assert.deepEqual(late.sort(), ['a1', 'b1']);
    off();
    lwOf('team-a').lastWatch.emit({ type: 'ADDED', object: thing('a2', '10', {}, 'team-a') });
    lwOf('team-b').lastWatch.emit({ type: 'ADDED', object: thing('b2', '10', {}, 'team-b') });
    assert.deepEqual(late.sort(), ['a1', 'b1']);
  });

  it('a refused list (403) leaves the informer unsynced with the reason, retried on a bounded backoff, and syncs once allowed', async function () {
    const lw = lwOf('team-c');
    for (let i = 0; i < 10; i++) lw.listResults.push(forbidden());
    const inf = set.acquire('team-c', 'c1');
    await clock.advance(0);
    assert.equal(inf.hasSynced(), false);
    assert.equal(inf.stats.lastError?.code, 403);
    // Backoff 1 s, 2 s, 4 s, then 8 s at most: one list per 8 s while refused, not a storm.
    await clock.advance(60_000);
    assert.ok(lw.listCalls >= 8 && lw.listCalls <= 11, `lists while refused in 60 s: ${lw.listCalls}`);
    assert.equal(inf.hasSynced(), false);
    lw.listResults.length = 0;
    lw.current = { items: [thing('creds', '12', {}, 'team-c')], resourceVersion: '20' };
    await clock.advance(8000);
    assert.equal(inf.hasSynced(), true);
    assert.equal(inf.stats.lastError, undefined, 'the reason clears once a list succeeds');
    assert.ok(events.includes('add team-c/creds'), 'the grant shows up as events, which re-enqueue its users');
  });
});
