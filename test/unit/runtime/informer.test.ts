import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { KubeApiError } from '../../../src/runtime/errors.ts';
import { SupervisedInformer } from '../../../src/runtime/informer.ts';
import { FakeListWatcher, thing, type Thing } from './fake-list-watcher.ts';

type Ev = [string, string, string?];

describe('SupervisedInformer', function () {
  let clock: ManualClock;
  let lw: FakeListWatcher<Thing>;
  let inf: SupervisedInformer<Thing>;
  let events: Ev[];

  function make(opts: { resyncPeriodMs?: number; stallTimeoutMs?: number } = {}): void {
    inf = new SupervisedInformer(lw, { clock, backoff: { initialMs: 100, maxMs: 1000, jitter: 0 }, ...opts });
    inf.on({
      add: (o) => events.push(['add', o.metadata?.name ?? '', o.metadata?.resourceVersion]),
      update: (_old, o) => events.push(['update', o.metadata?.name ?? '', o.metadata?.resourceVersion]),
      delete: (o) => events.push(['delete', o.metadata?.name ?? '']),
    });
  }

  beforeEach(function () {
    clock = new ManualClock();
    lw = new FakeListWatcher();
    events = [];
  });
  afterEach(async function () {
    await inf.stop();
  });

  it('lists, syncs, then watches from the list resourceVersion and applies events', async function () {
    lw.current = { items: [thing('a', '5'), thing('b', '6')], resourceVersion: '10' };
    make();
    inf.start();
    await inf.waitForSync();
    await clock.advance(0);
    assert.equal(inf.hasSynced(), true);
    assert.equal(lw.lastWatch.rv, '10');
    lw.lastWatch.emit({ type: 'MODIFIED', object: thing('a', '11', { n: 1 }) });
    lw.lastWatch.emit({ type: 'ADDED', object: thing('c', '12') });
    lw.lastWatch.emit({ type: 'DELETED', object: thing('b', '13') });
    assert.deepEqual(events, [
      ['add', 'a', '5'],
      ['add', 'b', '6'],
      ['update', 'a', '11'],
      ['add', 'c', '12'],
      ['delete', 'b'],
    ]);
    assert.deepEqual(inf.keys().sort(), ['ns/a', 'ns/c']);
    assert.equal(inf.get('ns/a')?.spec?.n, 1);
  });

  it('resumes a watch the server ended from the last resourceVersion seen (bookmarks included), without relisting', async function () {
    make();
    inf.start();
    await clock.advance(0);
    lw.lastWatch.emit({ type: 'ADDED', object: thing('a', '20') });
    lw.lastWatch.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '25' } } });
    lw.lastWatch.end();
    await clock.advance(0);
    assert.equal(lw.watches.length, 2);
    assert.equal(lw.lastWatch.rv, '25');
    assert.equal(lw.listCalls, 1);
    assert.deepEqual(events, [['add', 'a', '20']], 'a bookmark is not an object event');
  });

  it('relists on 410 and emits deletes for objects that vanished while the watch was gone', async function () {
    lw.current = { items: [thing('a', '5'), thing('b', '6')], resourceVersion: '10' };
    make();
    inf.start();
    await clock.advance(0);
    lw.current = { items: [thing('a', '30', { n: 2 }), thing('d', '31')], resourceVersion: '40' };
    lw.lastWatch.fail(new KubeApiError('WATCH', '/x', 410, { reason: 'Expired' }));
    await clock.advance(0);
    assert.equal(lw.listCalls, 2, 'relisted at once, no backoff');
    assert.equal(lw.lastWatch.rv, '40');
    assert.equal(inf.stats.expired, 1);
    assert.deepEqual(events.slice(2), [
      ['update', 'a', '30'],
      ['add', 'd', '31'],
      ['delete', 'b'],
    ]);
  });

  it('treats an in-stream ERROR event with code 410 like an expired version', async function () {
    make();
    inf.start();
    await clock.advance(0);
    lw.lastWatch.emit({ type: 'ERROR', object: { code: 410, reason: 'Expired', message: 'too old resource version' } });
    await clock.advance(0);
    assert.equal(lw.listCalls, 2);
    assert.equal(inf.stats.expired, 1);
  });

  it('restarts after errors with growing backoff, and keeps the cache meanwhile', async function () {
    lw.current = { items: [thing('a', '5')], resourceVersion: '10' };
    make();
    inf.start();
    await clock.advance(0);
    const reconnectAfter: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = lw.watches.length;
      const t0 = clock.now();
      lw.lastWatch.fail(new Error('ECONNREFUSED'));
      while (lw.watches.length === before) await clock.advance(10);
      reconnectAfter.push(clock.now() - t0);
      assert.equal(lw.lastWatch.rv, '10', 'resumes from the last version, so no event is lost');
    }
    assert.deepEqual(reconnectAfter, [100, 200, 400, 800]);
    assert.equal(inf.get('ns/a')?.metadata?.resourceVersion, '5');
    assert.equal(inf.stats.errors, 4);
    // One event resets the backoff.
    lw.lastWatch.emit({ type: 'MODIFIED', object: thing('a', '11') });
    lw.lastWatch.end();
    await clock.advance(0);
    const t0 = clock.now();
    const before = lw.watches.length;
    lw.lastWatch.fail(new Error('ECONNRESET'));
    while (lw.watches.length === before) await clock.advance(10);
    assert.equal(clock.now() - t0, 100);
  });

  it('retries a failing initial list with backoff until it succeeds', async function () {
    lw.listResults.push(new Error('connect refused'), new Error('connect refused'));
    lw.current = { items: [thing('a', '1')], resourceVersion: '2' };
    make();
    inf.start();
    await clock.advance(0);
    assert.equal(inf.hasSynced(), false);
    await clock.advance(100);
    assert.equal(lw.listCalls, 2);
    await clock.advance(200);
    assert.equal(lw.listCalls, 3);
    assert.equal(inf.hasSynced(), true);
  });

  it('restarts a watch that stays silent past the stall timeout; events and bookmarks keep it alive', async function () {
    make({ stallTimeoutMs: 60_000 });
    inf.start();
    await clock.advance(0);
    await clock.advance(50_000);
    lw.lastWatch.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '7' } } });
    await clock.advance(50_000);
    assert.equal(lw.watches.length, 1, 'the bookmark reset the watchdog');
    await clock.advance(10_001);
    assert.equal(lw.watches.length, 2);
    assert.equal(lw.watches[0]?.signal.aborted, true, 'the stalled request was aborted');
    assert.equal(lw.lastWatch.rv, '7');
    assert.equal(inf.stats.stalls, 1);
  });

  it('replays every cached object on each resync period', async function () {
    lw.current = { items: [thing('a', '1'), thing('b', '2')], resourceVersion: '3' };
    make({ resyncPeriodMs: 30_000 });
    inf.start();
    await clock.advance(0);
    events.length = 0;
    await clock.advance(29_999);
    assert.equal(events.length, 0);
    await clock.advance(1);
    assert.deepEqual(events, [
      ['update', 'a', '1'],
      ['update', 'b', '2'],
    ]);
    await clock.advance(30_000);
    assert.equal(events.length, 4);
  });

  it('strips managedFields and kubectl last-applied-configuration before caching, keeping other annotations', async function () {
    const o = thing('a', '1');
    const LAST = 'kubectl.kubernetes.io/last-applied-configuration';
    o.metadata = { ...o.metadata, managedFields: [{ manager: 'kubectl', fieldsV1: {} }], annotations: { [LAST]: '{"spec":{}}', keep: 'me' } };
    lw.current = { items: [o], resourceVersion: '2' };
    make();
    inf.start();
    await clock.advance(0);
    const w = thing('b', '3');
    w.metadata = { ...w.metadata, managedFields: [{ manager: 'x' }] };
    lw.lastWatch.emit({ type: 'ADDED', object: w });
    assert.equal(inf.get('ns/a')?.metadata?.managedFields, undefined);
    assert.equal(inf.get('ns/b')?.metadata?.managedFields, undefined);
    assert.deepEqual(inf.get('ns/a')?.metadata?.annotations, { keep: 'me' });
    const only = thing('c', '4');
    only.metadata = { ...only.metadata, annotations: { [LAST]: '{}' } };
    lw.lastWatch.emit({ type: 'ADDED', object: only });
    assert.equal(inf.get('ns/c')?.metadata?.annotations, undefined);
  });

  it('keeps indexes current through adds, updates that move an object, and deletes', async function () {
    lw.current = { items: [thing('r1', '1', { edge: 'e1' }), thing('r2', '2', { edge: 'e1' })], resourceVersion: '3' };
    make();
    inf.start();
    await clock.advance(0);
    // Added after sync: built from the cache.
    inf.addIndexer('byEdge', (o) => (o.spec?.edge ? [o.spec.edge] : []));
    const names = (edge: string): string[] =>
      inf
        .byIndex('byEdge', edge)
        .map((o) => o.metadata?.name ?? '')
        .sort();
    assert.deepEqual(names('e1'), ['r1', 'r2']);
    lw.lastWatch.emit({ type: 'MODIFIED', object: thing('r2', '4', { edge: 'e2' }) });
    lw.lastWatch.emit({ type: 'ADDED', object: thing('r3', '5', { edge: 'e2' }) });
    assert.deepEqual(names('e1'), ['r1']);
    assert.deepEqual(names('e2'), ['r2', 'r3']);
    lw.lastWatch.emit({ type: 'DELETED', object: thing('r3', '6', { edge: 'e2' }) });
    assert.deepEqual(names('e2'), ['r2']);
    assert.throws(() => inf.byIndex('nope', 'x'), /no index nope/);
  });

  it('does not emit an update for an unchanged resourceVersion, and survives a throwing handler', async function () {
    lw.current = { items: [thing('a', '1')], resourceVersion: '2' };
    make();
    inf.on({
      update: () => {
        throw new Error('handler bug');
      },
    });
    inf.start();
    await clock.advance(0);
    lw.lastWatch.emit({ type: 'MODIFIED', object: thing('a', '1') });
    lw.lastWatch.emit({ type: 'MODIFIED', object: thing('a', '9') });
    assert.deepEqual(events.slice(1), [['update', 'a', '9']]);
    assert.equal(lw.watches.length, 1, 'the watch was not disturbed by the handler error');
  });

  it('stop() ends the loop and aborts the watch', async function () {
    make();
    inf.start();
    await clock.advance(0);
    const w = lw.lastWatch;
    await inf.stop();
    assert.equal(w.signal.aborted, true);
    await clock.advance(100_000);
    assert.equal(lw.watches.length, 1);
  });
});
