import assert from 'node:assert/strict';
import { KubeClient } from '../../../src/runtime/client.ts';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { Controller, type ControllerDefinition } from '../../../src/runtime/controller.ts';
import { KubeApiError, TerminalError } from '../../../src/runtime/errors.ts';
import { EventRecorder } from '../../../src/runtime/events.ts';
import { FinalizerHelper } from '../../../src/runtime/finalizers.ts';
import { SupervisedInformer } from '../../../src/runtime/informer.ts';
import { createLogger } from '../../../src/runtime/logger.ts';
import { RuntimeMetrics } from '../../../src/runtime/metrics.ts';
import { StatusWriter } from '../../../src/runtime/status.ts';
import type { KubeObject, ResourceType } from '../../../src/runtime/types.ts';
import { FakeListWatcher, thing, type Thing } from './fake-list-watcher.ts';
import { RecordingTransport } from './recording-transport.ts';

const things: ResourceType = { group: 'x', version: 'v1', plural: 'things', kind: 'Thing', namespaced: true };
const secrets: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };

describe('Controller', function () {
  let clock: ManualClock;
  let lw: FakeListWatcher<Thing>;
  let secretLw: FakeListWatcher<KubeObject>;
  let primary: SupervisedInformer<Thing>;
  let secretInf: SupervisedInformer<KubeObject>;
  let metrics: RuntimeMetrics;
  let controller: Controller<Thing> | undefined;

  function build(def: Omit<ControllerDefinition<Thing>, 'for' | 'name'>): Controller<Thing> {
    const client = new KubeClient(new RecordingTransport());
    const logger = createLogger({ level: 'silent' });
    controller = new Controller<Thing>(
      { name: 'things', for: things, ...def },
      {
        primary,
        informerFor: () => secretInf,
        client,
        clock,
        logger,
        metrics,
        status: new StatusWriter(client, things, clock),
        events: new EventRecorder({ client, clock, controller: 'x.io/things', instance: 'test' }),
        finalizers: new FinalizerHelper(client, things),
        random: () => 0.5,
      },
    );
    return controller;
  }

  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const m = (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) =>
      Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val),
    );
    return m?.value ?? 0;
  }

  beforeEach(function () {
    clock = new ManualClock();
    lw = new FakeListWatcher();
    secretLw = new FakeListWatcher();
    primary = new SupervisedInformer(lw, { clock });
    secretInf = new SupervisedInformer(secretLw, { clock });
    metrics = new RuntimeMetrics();
  });
  afterEach(async function () {
    controller?.stopIntake();
    await controller?.drained();
    await primary.stop();
    await secretInf.stop();
  });

  it('retries a failing key with growing delays, then forgets its failures after a success', async function () {
    lw.current = { items: [thing('a', '1')], resourceVersion: '2' };
    const at: number[] = [];
    let failUntil = 5;
    const c = build({
      reconcile: () => {
        at.push(clock.now());
        if (at.length <= failUntil) return Promise.reject(new Error('VCD unreachable'));
        return Promise.resolve();
      },
    });
    primary.start();
    c.start();
    await clock.advance(1000);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    assert.deepEqual(gaps, [5, 10, 20, 40, 80]);
    assert.equal(await metric('controller_runtime_reconcile_errors_total', { controller: 'things' }), 5);
    assert.equal(await metric('controller_runtime_reconcile_total', { controller: 'things', result: 'success' }), 1);
    assert.equal(await metric('workqueue_retries_total', { name: 'things' }), 5);
    assert.equal(c.queue.numRequeues('ns/a'), 0, 'success forgot the failures');
    failUntil = 0;
  });

  it('retries a resourceVersion conflict (a cache behind the server) after 1 s, doubling, not on the error backoff', async function () {
    lw.current = { items: [thing('a', '1')], resourceVersion: '2' };
    const at: number[] = [];
    const outcomes: Array<'conflict' | 'error' | 'ok'> = ['error', 'error', 'error', 'conflict', 'conflict', 'ok'];
    const c = build({
      reconcile: () => {
        at.push(clock.now());
        const o = outcomes.shift() ?? 'ok';
        if (o === 'conflict') return Promise.reject(new KubeApiError('PATCH', '/things/a', 409, { reason: 'Conflict' }));
        if (o === 'error') return Promise.reject(new Error('VCD unreachable'));
        return Promise.resolve();
      },
    });
    primary.start();
    c.start();
    await clock.advance(10_000);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // Three failures grow the error backoff (5, 10, 20 ms); the conflicts that follow wait 1 s then 2 s, not 40 and 80 ms.
    assert.deepEqual(gaps, [5, 10, 20, 1000, 2000]);
    // Caught up: a later conflict starts from 1 s again, and a later failure from the error backoff's first step.
    outcomes.push('conflict', 'error', 'ok');
    c.enqueue(['ns/a']);
    await clock.advance(10_000);
    const later = at.slice(6).map((t, i) => t - (at[i + 5] ?? 0));
    assert.deepEqual(later.slice(1), [1000, 5]);
  });

  it('does not retry a TerminalError, and counts it', async function () {
    lw.current = { items: [thing('a', '1')], resourceVersion: '2' };
    let calls = 0;
    const c = build({
      reconcile: () => {
        calls++;
        return Promise.reject(new TerminalError('spec names an unknown IP Space', { reason: 'IPSpaceNotFound' }));
      },
    });
    primary.start();
    c.start();
    await clock.advance(60_000);
    assert.equal(calls, 1);
    assert.equal(await metric('controller_runtime_terminal_reconcile_errors_total', { controller: 'things' }), 1);
    assert.equal(await metric('controller_runtime_reconcile_total', { controller: 'things', result: 'error' }), 1);
  });

  it('honours requeueAfterMs', async function () {
    lw.current = { items: [thing('a', '1')], resourceVersion: '2' };
    const at: number[] = [];
    const c = build({
      reconcile: () => {
        at.push(clock.now());
        return Promise.resolve({ requeueAfterMs: 30_000 });
      },
    });
    primary.start();
    c.start();
    await clock.advance(95_000);
    assert.deepEqual(
      at.map((t) => t - (at[0] ?? 0)),
      [0, 30_000, 60_000, 90_000],
    );
    assert.equal(await metric('controller_runtime_reconcile_total', { controller: 'things', result: 'requeue_after' }), 4);
  });

  it('maps many objects to one key and never runs one key twice at once, with N workers', async function () {
    lw.current = {
      items: [thing('r1', '1', { edge: 'e1' }), thing('r2', '2', { edge: 'e1' }), thing('r3', '3', { edge: 'e2' }), thing('r4', '4', { edge: 'e3' })],
      resourceVersion: '5',
    };
    const running = new Set<string>();
    let maxParallel = 0;
    let overlapped = false;
    const seen: string[] = [];
    const release: Array<() => void> = [];
    const c = build({
      maxConcurrentReconciles: 2,
      keysFor: (o) => [`edge:${o.metadata?.namespace}/${o.spec?.edge}`],
      indexers: { byEdge: (o) => [`edge:${o.metadata?.namespace}/${o.spec?.edge}`] },
      reconcile: async (key) => {
        if (running.has(key)) overlapped = true;
        running.add(key);
        maxParallel = Math.max(maxParallel, running.size);
        seen.push(key);
        await new Promise<void>((r) => release.push(r));
        running.delete(key);
      },
    });
    primary.start();
    c.start();
    await clock.advance(0);
    assert.equal(running.size, 2, 'two workers busy');
    // Another rule of a busy edge changes while its key is being reconciled.
    lw.lastWatch.emit({ type: 'MODIFIED', object: thing('r2', '9', { edge: 'e1' }) });
    for (let i = 0; i < 10 && release.length; i++) {
      release.shift()?.();
      await clock.advance(0);
    }
    assert.equal(overlapped, false);
    assert.equal(maxParallel, 2);
    assert.deepEqual([...seen].sort(), ['edge:ns/e1', 'edge:ns/e1', 'edge:ns/e2', 'edge:ns/e3']);
    assert.deepEqual(
      primary
        .byIndex('byEdge', 'edge:ns/e1')
        .map((o) => o.metadata?.name)
        .sort(),
      ['r1', 'r2'],
    );
  });

  /** Two connections and a Secret cached, and a controller watching the Secret; returns the keys it reconciles. */
  async function watchingSecret(watch: Omit<NonNullable<ControllerDefinition['watches']>[number], 'resource'>): Promise<string[]> {
    lw.current = { items: [thing('conn1', '1'), thing('conn2', '2')], resourceVersion: '3' };
    secretLw.current = { items: [{ metadata: { name: 'creds', namespace: 'ns', resourceVersion: '1' } }], resourceVersion: '4' };
    const seen: string[] = [];
    const c = build({
      watches: [{ resource: secrets, ...watch }],
      reconcile: (key) => {
        seen.push(key);
        return Promise.resolve();
      },
    });
    primary.start();
    secretInf.start();
    c.start();
    for (let i = 0; i < 5; i++) await clock.advance(0);
    return seen;
  }

  it('enqueues the keys a related object maps to (a Secret change wakes its connections)', async function () {
    const seen = await watchingSecret({ keysFor: (s) => ((s as KubeObject).metadata?.name === 'creds' ? ['ns/conn2'] : []) });
    assert.deepEqual([...new Set(seen)].sort(), ['ns/conn1', 'ns/conn2']);
    seen.length = 0;
    secretLw.lastWatch.emit({ type: 'MODIFIED', object: { metadata: { name: 'creds', namespace: 'ns', resourceVersion: '5' } } });
    await clock.advance(0);
    assert.deepEqual(seen, ['ns/conn2']);
  });

  it('skips the updates of a related object its watch says do not matter', async function () {
    const seen = await watchingSecret({
      keysFor: () => ['ns/conn1'],
      changed: (a, b) => (a as KubeObject).metadata?.labels?.['v'] !== (b as KubeObject).metadata?.labels?.['v'],
    });
    seen.length = 0;
    secretLw.lastWatch.emit({ type: 'MODIFIED', object: { metadata: { name: 'creds', namespace: 'ns', resourceVersion: '5' } } });
    await clock.advance(0);
    assert.deepEqual(seen, [], 'an update that does not matter wakes nothing');
    secretLw.lastWatch.emit({ type: 'MODIFIED', object: { metadata: { name: 'creds', namespace: 'ns', resourceVersion: '6', labels: { v: '2' } } } });
    await clock.advance(0);
    assert.deepEqual(seen, ['ns/conn1']);
  });

  it('ignores updates that change only status (the echo of its own writes), not spec, labels or deletion', async function () {
    lw.current = { items: [thing('a', '1', { n: 1 })], resourceVersion: '2' };
    const seen: string[] = [];
    const c = build({
      reconcile: (key) => {
        seen.push(key);
        return Promise.resolve();
      },
    });
    primary.start();
    c.start();
    await clock.advance(0);
    const withStatus = { ...thing('a', '3', { n: 1 }), status: { ready: true } };
    lw.lastWatch.emit({ type: 'MODIFIED', object: withStatus });
    await clock.advance(0);
    assert.equal(seen.length, 1, 'a status-only update is skipped');
    lw.lastWatch.emit({
      type: 'MODIFIED',
      object: { ...thing('a', '4', { n: 1 }), status: { ready: true }, metadata: { name: 'a', namespace: 'ns', resourceVersion: '4', labels: { x: 'y' } } },
    });
    await clock.advance(0);
    lw.lastWatch.emit({
      type: 'MODIFIED',
      object: { ...thing('a', '5', { n: 2 }), status: { ready: true }, metadata: { name: 'a', namespace: 'ns', resourceVersion: '5', labels: { x: 'y' } } },
    });
    await clock.advance(0);
    lw.lastWatch.emit({
      type: 'MODIFIED',
      object: {
        ...thing('a', '6', { n: 2 }),
        metadata: { name: 'a', namespace: 'ns', resourceVersion: '6', labels: { x: 'y' }, deletionTimestamp: '2026-01-01T00:00:00Z' },
      },
    });
    await clock.advance(0);
    assert.equal(seen.length, 4, 'label, spec and deletion changes each reconcile');
  });

  it('resync enqueues every cached key each period', async function () {
    lw.current = { items: [thing('a', '1'), thing('b', '2')], resourceVersion: '3' };
    const seen: string[] = [];
    const c = build({
      resyncPeriodMs: 60_000,
      reconcile: (key) => {
        seen.push(key);
        return Promise.resolve();
      },
    });
    primary.start();
    c.start();
    await clock.advance(0);
    assert.equal(seen.length, 2);
    await clock.advance(60_000);
    assert.equal(seen.length, 4);
  });

  it('a standby fills its queue but reconciles nothing until started', async function () {
    lw.current = { items: [thing('a', '1'), thing('b', '2')], resourceVersion: '3' };
    let calls = 0;
    const c = build({
      reconcile: () => {
        calls++;
        return Promise.resolve();
      },
    });
    primary.start();
    await clock.advance(1000);
    assert.equal(calls, 0);
    assert.equal(c.queue.len(), 2);
    c.start();
    await clock.advance(0);
    assert.equal(calls, 2);
  });

  it('scopes index names to the controller: two controllers on one informer may both declare byEdge', async function () {
    lw.current = { items: [thing('r1', '1', { edge: 'e1' }), thing('r2', '2', { edge: 'e2' })], resourceVersion: '3' };
    const byEdge: Array<[string, string[]]> = [];
    const names = (objs: Thing[]): string[] => objs.map((o) => o.metadata?.name ?? '').sort();
    const a = build({
      indexers: { byEdge: (o) => (o.spec?.edge ? [o.spec.edge] : []) },
      reconcile: (key, ctx) => {
        byEdge.push([key, names(ctx.byIndex('byEdge', 'e1'))]);
        return Promise.resolve();
      },
    });
    // A second controller on the same informer declares an index of the same name with other values.
    const client = new KubeClient(new RecordingTransport());
    const b = new Controller<Thing>(
      { name: 'other', for: things, indexers: { byEdge: (o) => [`other-${o.spec?.edge ?? ''}`] }, reconcile: () => Promise.resolve() },
      {
        primary,
        informerFor: () => secretInf,
        client,
        clock,
        logger: createLogger({ level: 'silent' }),
        metrics,
        status: new StatusWriter(client, things, clock),
        events: new EventRecorder({ client, clock, controller: 'x.io/other', instance: 'test' }),
        finalizers: new FinalizerHelper(client, things),
      },
    );
    primary.start();
    a.start();
    for (let i = 0; i < 3; i++) await clock.advance(0);
    assert.deepEqual(byEdge.sort(), [
      ['ns/r1', ['r1']],
      ['ns/r2', ['r1']],
    ]);
    assert.deepEqual(names(b.byIndex('byEdge', 'other-e2')), ['r2']);
    assert.deepEqual(names(a.byIndex('byEdge', 'other-e2')), [], 'each controller sees its own index');
    assert.deepEqual(names(primary.byIndex('things/byEdge', 'e2')), ['r2'], 'stored under <controller>/<index>');
    assert.throws(() => primary.byIndex('byEdge', 'e1'), /declared by several controllers/, 'a plain name two controllers declared is refused, not guessed');
    assert.throws(() => a.byIndex('byColour', 'x'), /declares no index byColour/);
    b.stopIntake();
  });

  it('a plain index name only one controller declared still resolves on the informer (callers written before scoping)', async function () {
    lw.current = { items: [thing('r1', '1', { edge: 'e1' })], resourceVersion: '2' };
    build({ indexers: { byEdge: (o) => (o.spec?.edge ? [o.spec.edge] : []) }, reconcile: () => Promise.resolve() });
    primary.start();
    await clock.advance(0);
    assert.deepEqual(
      primary.byIndex('byEdge', 'e1').map((o) => o.metadata?.name),
      ['r1'],
    );
  });

  it('enqueue() reconciles keys from a source outside Kubernetes, deduplicated, and none after intake stopped', async function () {
    lw.current = { items: [], resourceVersion: '1' };
    const seen: string[] = [];
    const c = build({
      reconcile: (key) => {
        seen.push(key);
        return Promise.resolve();
      },
    });
    primary.start();
    c.start();
    await clock.advance(0);
    c.enqueue(['edge/e1', 'edge/e1', 'edge/e2']);
    await clock.advance(0);
    assert.deepEqual(seen.sort(), ['edge/e1', 'edge/e2']);
    c.stopIntake();
    c.enqueue(['edge/e3']);
    await clock.advance(0);
    assert.deepEqual(seen.sort(), ['edge/e1', 'edge/e2']);
  });
});
