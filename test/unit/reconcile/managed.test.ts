// The managed engine, step by step, against an in-memory apiserver and a scripted cloud: each
// test fails when a step of the engine (finalizer, guard, observe before create, the guard kept
// until the id is in status, deletion policy, the condition rule) is taken out.
import assert from 'node:assert/strict';
import { Reasons } from '../../../src/api/index.ts';
import { CloudNetworkError, VcdApiError } from '../../../src/clients/vcd/index.ts';
import { managedController, Problem, ready, type EngineOptions, type ManagedExternal } from '../../../src/reconcile/index.ts';
import type { ControllerDefinition } from '../../../src/runtime/index.ts';
import { FakeKube, widgets, type Widget } from './fake-kube.ts';

type Status = NonNullable<Widget['status']>;

/** A scripted cloud holding at most one object per widget, by id. */
class FakeCloud {
  readonly objects = new Map<string, string>();
  readonly calls: string[] = [];
  /** Makes the next create fail after it happened (the response was lost). */
  loseNextCreate = false;
  refuseDelete = false;
  connectError: Error | undefined;
  #next = 1;

  external(obj: Widget): ManagedExternal<Status> {
    const owner = obj.metadata?.uid ?? '';
    return {
      observe: (knownId) => {
        this.calls.push(`observe:${knownId ?? ''}`);
        if (knownId && this.objects.has(knownId)) return Promise.resolve({ id: knownId });
        // By marker: the object this owner created.
        const mine = [...this.objects].find(([, o]) => o === owner);
        return Promise.resolve(mine ? { id: mine[0] } : undefined);
      },
      create: () => {
        const id = `obj-${this.#next++}`;
        this.calls.push('create');
        this.objects.set(id, owner);
        if (this.loseNextCreate) {
          this.loseNextCreate = false;
          return Promise.reject(new CloudNetworkError('vcd', 'create', 'ECONNRESET', 'socket hang up', true));
        }
        return Promise.resolve(id);
      },
      sync: (id) => {
        this.calls.push(`sync:${id}`);
        return Promise.resolve({ outcome: ready('Available', `object ${id} is there`), fields: (s: Status) => void (s.id = id) });
      },
      delete: (id) => {
        this.calls.push(`delete:${id}`);
        if (this.refuseDelete)
          return Promise.reject(
            new VcdApiError({ operation: 'delete', status: 400, minorErrorCode: 'BAD_REQUEST', serverMessage: 'in use', requestId: undefined }),
          );
        this.objects.delete(id);
        return Promise.resolve();
      },
    };
  }
}

describe('managed engine', function () {
  let kube: FakeKube;
  let cloud: FakeCloud;
  let def: ControllerDefinition<Widget>;
  const opts = (k: FakeKube): EngineOptions => ({
    clock: k.clock,
    namespaceInScope: () => true,
    pendingWindowMs: 60_000,
    driftCheckMs: 600_000,
    retryMs: 30_000,
    pollPendingMs: 1000,
  });

  beforeEach(function () {
    kube = new FakeKube();
    cloud = new FakeCloud();
    def = managedController<Widget, FakeCloud, Status>(
      {
        name: 'widget',
        resource: widgets,
        finalizer: 'x.io/widget',
        validate: (o) => (o.spec.valid === false ? 'spec.value is not a value' : undefined),
        connect: () => (cloud.connectError ? Promise.reject(cloud.connectError) : Promise.resolve(cloud)),
        external: (o, c) => c.external(o),
        knownId: (o) => o.status?.id,
        deletionPolicy: (o) => (o.spec.value === 'orphan' ? 'Orphan' : 'Delete'),
        describe: (o) => `widget ${o.metadata?.name ?? ''}`,
      },
      opts(kube),
    );
  });

  const run = (name: string) => def.reconcile(`ns/${name}`, kube.context(`ns/${name}`));

  it('creates under the guard, writes the id to status, and only then clears the guard', async function () {
    kube.add('a', {});
    const result = await run('a');
    assert.deepEqual(cloud.calls, ['observe:', 'create', 'sync:obj-1']);
    assert.deepEqual(kube.steps('a'), ['finalizer', 'pending', 'status', 'pending-cleared']);
    assert.equal(kube.get('a').status?.id, 'obj-1');
    assert.deepEqual(kube.condition('a', 'Ready'), { ...kube.condition('a', 'Ready'), status: 'True', reason: 'Available' });
    assert.equal(kube.condition('a', 'Synced')?.status, 'True');
    assert.equal(result, undefined, 'the resync alone looks again: no second timer');
  });

  it('after a lost create response finds its own object instead of creating a second', async function () {
    kube.add('a', {});
    cloud.loseNextCreate = true;
    await assert.rejects(run('a'), (err: unknown) => err instanceof Problem && err.transient);
    assert.ok(kube.get('a').metadata?.annotations?.['vcd-operator.io/create-pending'], 'the guard stays while the outcome is unknown');
    await run('a');
    assert.deepEqual(
      cloud.calls.filter((c) => c === 'create'),
      ['create'],
      'one create',
    );
    assert.equal(kube.get('a').status?.id, 'obj-1');
    assert.equal(kube.get('a').metadata?.annotations?.['vcd-operator.io/create-pending'], undefined);
  });

  it('waits out the guard window when the earlier create is nowhere to be seen, then creates', async function () {
    kube.add('a', {}, { annotations: { 'vcd-operator.io/create-pending': new Date(kube.clock.now()).toISOString() }, finalizers: ['x.io/widget'] });
    const waiting = await run('a');
    assert.deepEqual(cloud.calls, ['observe:'], 'no create inside the window');
    assert.equal(kube.condition('a', 'Ready')?.reason, Reasons.Creating);
    assert.deepEqual(waiting, { requeueAfterMs: 1000 });
    await kube.clock.advance(60_000);
    await run('a');
    assert.deepEqual(cloud.calls.slice(1), ['observe:', 'create', 'sync:obj-1']);
  });

  it('reports an invalid spec on both conditions and calls nothing in the cloud', async function () {
    kube.add('a', { valid: false });
    cloud.connectError = new Error('connect must not be called');
    await run('a');
    assert.deepEqual(cloud.calls, []);
    assert.deepEqual(
      [kube.condition('a', 'Ready')?.reason, kube.condition('a', 'Synced')?.reason, kube.condition('a', 'Synced')?.status],
      [Reasons.InvalidSpec, Reasons.InvalidSpec, 'False'],
    );
  });

  it('lets an object that never created anything go without a connection', async function () {
    kube.add('a', {}, { deletionTimestamp: new Date().toISOString(), finalizers: ['x.io/widget'] });
    cloud.connectError = new Problem(Reasons.ConnectionNotFound, 'no such connection');
    await run('a');
    assert.equal(kube.objects.has('ns/a'), false, 'finalizer removed, object gone');
    assert.deepEqual(cloud.calls, []);
  });

  it('keeps the finalizer of an object that may hold something while its connection is missing', async function () {
    kube.add(
      'a',
      {},
      {
        deletionTimestamp: new Date().toISOString(),
        finalizers: ['x.io/widget'],
        annotations: { 'vcd-operator.io/create-pending': new Date(0).toISOString() },
      },
    );
    cloud.connectError = new Problem(Reasons.ConnectionNotFound, 'no such connection');
    const r = await run('a');
    assert.ok(kube.objects.has('ns/a'));
    assert.equal(kube.condition('a', 'Ready')?.reason, Reasons.ConnectionNotFound);
    assert.deepEqual(r, { requeueAfterMs: 30_000 });
  });

  it('deletes what it created, found by id, then drops the finalizer', async function () {
    kube.add('a', {});
    await run('a');
    const o = kube.get('a');
    kube.objects.set('ns/a', { ...o, metadata: { ...o.metadata, deletionTimestamp: new Date().toISOString() } });
    await run('a');
    assert.deepEqual(cloud.calls.slice(-1), ['delete:obj-1']);
    assert.equal(cloud.objects.size, 0);
    assert.equal(kube.objects.has('ns/a'), false);
  });

  it('keeps the finalizer with DeleteBlocked when the cloud refuses the delete, and never retries it in a loop', async function () {
    kube.add('a', {});
    await run('a');
    const o = kube.get('a');
    kube.objects.set('ns/a', { ...o, metadata: { ...o.metadata, deletionTimestamp: new Date().toISOString() } });
    cloud.refuseDelete = true;
    const r = await run('a');
    assert.equal(kube.condition('a', 'Ready')?.reason, Reasons.DeleteBlocked);
    assert.deepEqual(r, { requeueAfterMs: 30_000 }, 'a refusal waits a retry period instead of the queue backoff');
  });

  it('leaves the cloud object alone with deletionPolicy Orphan', async function () {
    kube.add('a', { value: 'orphan' });
    await run('a');
    const o = kube.get('a');
    kube.objects.set('ns/a', { ...o, metadata: { ...o.metadata, deletionTimestamp: new Date().toISOString() } });
    await run('a');
    assert.equal(cloud.objects.size, 1);
    assert.equal(kube.objects.has('ns/a'), false);
  });

  it('keeps Ready while the cloud is unreachable, with Synced False, and backs off', async function () {
    kube.add('a', {});
    await run('a');
    cloud.connectError = new Problem(Reasons.Unreachable, 'VCD does not answer', { transient: true });
    await assert.rejects(run('a'), Problem);
    assert.equal(kube.condition('a', 'Ready')?.status, 'True');
    assert.deepEqual([kube.condition('a', 'Synced')?.status, kube.condition('a', 'Synced')?.reason], ['False', Reasons.Unreachable]);
  });
});
