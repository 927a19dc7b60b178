// The grouped engine: per-member admission, members without cloud state let go, errors turned
// into Synced=False on the members that got no outcome, refusals held back until the spec
// changes, and typed keys that refuse strings they did not make.
import assert from 'node:assert/strict';
import { Reasons } from '../../../src/api/index.ts';
import { CloudNetworkError } from '../../../src/clients/vcd/index.ts';
import { groupedController, jsonKeyCodec, Problem, type EngineOptions, type Group } from '../../../src/reconcile/index.ts';
import { KubeApiError, type ControllerDefinition } from '../../../src/runtime/index.ts';
import { FakeKube, widgets, type Widget } from './fake-kube.ts';

type Status = NonNullable<Widget['status']>;
interface Key {
  group: string;
}
const codec = jsonKeyCodec<Key>('widget-group', (v): v is Key => typeof (v as Key | undefined)?.group === 'string');

describe('grouped engine', function () {
  let kube: FakeKube;
  let seen: string[][];
  let behaviour: (g: Group<Widget, Status>) => Promise<void>;
  let def: ControllerDefinition<Widget>;
  const opts = (k: FakeKube): EngineOptions => ({
    clock: k.clock,
    namespaceInScope: () => true,
    pendingWindowMs: 60_000,
    driftCheckMs: 600_000,
    retryMs: 30_000,
    pollPendingMs: 1000,
  });
  const key = codec.encode({ group: 'g' });

  beforeEach(function () {
    kube = new FakeKube();
    seen = [];
    behaviour = async (g) => {
      for (const m of g.members) g.ready(m.metadata?.uid ?? '', 'Available', 'fine', (s) => void (s.id = `id-${m.metadata?.name ?? ''}`));
      await Promise.resolve();
    };
    def = groupedController<Widget, Key, Status>(
      {
        name: 'widgets',
        resource: widgets,
        finalizer: 'x.io/widget',
        codec,
        keyOf: (o) => ({ group: o.spec.group ?? 'g' }),
        admit: [(o) => (o.spec.valid === false ? new Problem(Reasons.InvalidSpec, 'spec.value is not a value') : undefined)],
        holdsCloudState: (o) => !!o.status?.id,
        reconcile: async (_k, g) => {
          seen.push(g.members.map((m) => m.metadata?.name ?? ''));
          await behaviour(g);
        },
      },
      opts(kube),
    );
  });

  const indexers = () => ({ group: (o: Widget) => [codec.encode({ group: o.spec.group ?? 'g' })] });
  const run = () => def.reconcile(key, kube.context(key, indexers()));

  it('admits members one by one: a bad one gets its reason, its neighbours go on', async function () {
    kube.add('good', {});
    kube.add('bad', { valid: false });
    kube.add('also-good', {});
    await run();
    assert.deepEqual(seen, [['good', 'also-good']]);
    assert.equal(kube.condition('bad', 'Ready')?.reason, Reasons.InvalidSpec);
    assert.equal(kube.condition('bad', 'Synced')?.status, 'False');
    assert.equal(kube.condition('good', 'Ready')?.status, 'True');
    assert.equal(kube.get('also-good').status?.id, 'id-also-good');
  });

  it('lets a deleted member that holds nothing go without calling the adapter', async function () {
    kube.add('gone', {}, { deletionTimestamp: new Date().toISOString(), finalizers: ['x.io/widget'] });
    await run();
    assert.equal(kube.objects.has('ns/gone'), false);
    assert.deepEqual(seen, []);
  });

  it('keeps a deleted member that holds something in the group, so the adapter releases it', async function () {
    kube.add('holding', {}, { deletionTimestamp: new Date().toISOString(), finalizers: ['x.io/widget'] });
    const o = kube.get('holding');
    kube.objects.set('ns/holding', { ...o, status: { id: 'id-1' } });
    await run();
    assert.deepEqual(seen, [['holding']]);
    assert.ok(kube.objects.has('ns/holding'), 'the adapter decides when it may go');
  });

  it('turns an error into Synced=False on the members without an outcome, keeps Ready, and backs off when transient', async function () {
    kube.add('a', {});
    kube.add('b', {});
    await run();
    behaviour = async (g) => {
      const [a] = g.members;
      g.ready(a?.metadata?.uid ?? '', 'Available', 'still fine');
      await Promise.resolve();
      throw new CloudNetworkError('vcd', 'list', 'ECONNREFUSED', '', false);
    };
    await assert.rejects(run(), CloudNetworkError);
    assert.equal(kube.condition('a', 'Synced')?.status, 'True', 'a member with an outcome keeps it');
    assert.deepEqual([kube.condition('b', 'Synced')?.status, kube.condition('b', 'Synced')?.reason], ['False', Reasons.Unreachable]);
    assert.equal(kube.condition('b', 'Ready')?.status, 'True', 'Ready stays: the cloud object exists');
  });

  it('reports a real failure rather than a conflict met beside it, so the failure is not retried on the conflicts’ short delay', async function () {
    kube.add('a', {});
    const conflict = new KubeApiError('PATCH', '/widgets/a', 409, { reason: 'Conflict' });
    behaviour = async (g) => {
      await Promise.resolve();
      g.fail(conflict);
    };
    await assert.rejects(run(), (e) => e === conflict, 'a conflict alone goes to the runtime as it is');
    assert.equal(kube.condition('a', 'Synced'), undefined, 'and writes no status: that would only move the object further ahead of the cache');
    behaviour = async (g) => {
      await Promise.resolve();
      g.fail(conflict);
      throw new CloudNetworkError('vcd', 'list', 'ECONNREFUSED', '', false);
    };
    await assert.rejects(run(), CloudNetworkError);
    assert.equal(kube.condition('a', 'Synced')?.reason, Reasons.Unreachable);
  });

  it('holds a refused member back until its delay passes or its spec changes', async function () {
    kube.add('refused', {});
    behaviour = async (g) => {
      for (const m of g.members) {
        const uid = m.metadata?.uid ?? '';
        if (g.refusedUntil(uid) === undefined) g.refuse(uid, new Problem('AddressUnavailable', 'VCD refused the address'));
      }
      await Promise.resolve();
    };
    const first = await run();
    assert.deepEqual(first, { requeueAfterMs: 30_000 });
    const refusedAt = seen.length;
    // Its own status write wakes it; it must not be sent again.
    const second = await run();
    assert.equal(kube.condition('refused', 'Ready')?.reason, 'AddressUnavailable');
    assert.ok((second?.requeueAfterMs ?? 0) > 0);
    let attempts = 0;
    behaviour = async (g) => {
      for (const m of g.members) if (g.refusedUntil(m.metadata?.uid ?? '') === undefined) attempts++;
      await Promise.resolve();
    };
    await run();
    assert.equal(attempts, 0, 'inside the delay');
    assert.equal(seen.length, refusedAt + 2);
    // A new generation (the user fixed the spec) is tried at once.
    const o = kube.get('refused');
    kube.objects.set('ns/refused', { ...o, metadata: { ...o.metadata, generation: 2 } });
    await run();
    assert.equal(attempts, 1);
  });

  it('refuses keys it did not make', function () {
    for (const k of ['ns/name', 'widget-group:{', 'widget-group:{"other":1}', 'edge:{"group":"g"}']) assert.equal(codec.decode(k), undefined, k);
    assert.deepEqual(codec.decode(key), { group: 'g' });
  });
});
