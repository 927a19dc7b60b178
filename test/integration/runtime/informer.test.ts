// The supervised informer against a real kube-apiserver: outages, expired versions, no lost events.
import assert from 'node:assert/strict';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';
import { KubeClient, KubeHttp, kubeListWatcher, SupervisedInformer, createLogger, type RequestInfo } from '../../../src/runtime/index.ts';
import { gadget, gadgetCRD, gadgets, until, type Gadget } from './gadget-crd.ts';

describe('SupervisedInformer against kube-apiserver', function () {
  this.timeout(120_000);
  let ns: string;
  let client: KubeClient;
  const informers: SupervisedInformer<Gadget>[] = [];

  before(async function () {
    await controlPlane().installCRDs([structuredClone(gadgetCRD)]);
  });
  beforeEach(async function () {
    ns = await freshNamespace('inf');
    client = new KubeClient(new KubeHttp(controlPlane().kubeConfig()));
  });
  afterEach(async function () {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
  });

  function informer(onRequest?: (i: RequestInfo) => void, lists?: { firstRv?: string }): SupervisedInformer<Gadget> {
    const http = new KubeHttp(controlPlane().kubeConfig(), { onRequest });
    const lw = kubeListWatcher<Gadget>(new KubeClient(http), gadgets, { namespace: ns });
    let first = true;
    const inf = new SupervisedInformer<Gadget>(
      {
        list: async (signal) => {
          const r = await lw.list(signal);
          // Optionally pretend the first list was taken long ago, so the watch resumes from a stale version.
          if (first && lists?.firstRv) r.resourceVersion = lists.firstRv;
          first = false;
          return r;
        },
        watch: (rv, onEvent, signal) => lw.watch(rv, onEvent, signal),
      },
      { name: 'gadgets', logger: createLogger({ level: 'silent' }), backoff: { initialMs: 1500, maxMs: 3000, jitter: 0 } },
    );
    informers.push(inf);
    return inf;
  }

  it('misses no update, delete or create made while it was cut off by an apiserver restart', async function () {
    for (const n of ['keep', 'change', 'remove']) await client.create(gadgets, gadget(n, ns, { n: 1 }));
    const watches: Array<{ at: number; status: number }> = [];
    const inf = informer((i) => {
      if (i.method === 'WATCH') watches.push({ at: Date.now(), status: i.status });
    });
    const deleted: string[] = [];
    inf.on({ delete: (o) => deleted.push(o.metadata?.name ?? '') });
    inf.start();
    await inf.waitForSync();
    assert.deepEqual(inf.keys().sort(), [`${ns}/change`, `${ns}/keep`, `${ns}/remove`]);

    await controlPlane().stopApiserver();
    await controlPlane().startApiserver();
    // The informer is in its reconnect backoff now; these writes happen while it is not watching.
    await client.patch(gadgets, 'change', ns, { spec: { n: 2 } });
    await client.delete(gadgets, 'remove', ns);
    await client.create(gadgets, gadget('new', ns, { n: 3 }));
    const writesDone = Date.now();

    await until(() => inf.get(`${ns}/change`)?.spec?.n === 2 && !inf.get(`${ns}/remove`) && !!inf.get(`${ns}/new`), 30_000, 'the informer to catch up');
    const reconnected = watches.find((w) => w.status === 200 && w.at > writesDone);
    assert.ok(reconnected, `the informer had no watch open while the writes were made (watches: ${JSON.stringify(watches)})`);
    assert.deepEqual(deleted, ['remove'], 'the delete made during the gap was delivered as a delete event');
    assert.ok(inf.stats.errors >= 1, 'the outage was seen as an error and retried');
    // The cache equals the server.
    const server = await client.list<Gadget>(gadgets, { namespace: ns });
    assert.deepEqual(
      inf.list().map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort(),
      server.items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort(),
    );
  });

  it('relists on 410 Expired instead of crashing, and keeps watching afterwards', async function () {
    await client.create(gadgets, gadget('a', ns, { n: 1 }));
    const inf = informer(undefined, { firstRv: '1' });
    inf.start();
    await inf.waitForSync();
    await until(() => inf.stats.expired >= 1, 15_000, 'a 410 from the watch');
    await until(() => inf.stats.lists >= 2, 15_000, 'a relist');
    await client.create(gadgets, gadget('b', ns, { n: 2 }));
    await until(() => !!inf.get(`${ns}/b`), 15_000, 'the watch after the relist to deliver b');
    assert.equal(inf.stats.errors, 0, 'a 410 is not treated as a failure with backoff');
  });

  it('caches objects without managedFields and serves index lookups', async function () {
    await client.create(gadgets, gadget('r1', ns, { edge: 'e1' }));
    await client.create(gadgets, gadget('r2', ns, { edge: 'e1' }));
    await client.create(gadgets, gadget('r3', ns, { edge: 'e2' }));
    const inf = informer();
    inf.addIndexer('byEdge', (o) => (o.spec?.edge ? [o.spec.edge] : []));
    inf.start();
    await inf.waitForSync();
    const raw = await client.get<Gadget>(gadgets, 'r1', ns);
    assert.ok(raw.metadata?.managedFields?.length, 'the server does send managedFields');
    assert.equal(inf.get(`${ns}/r1`)?.metadata?.managedFields, undefined);
    assert.deepEqual(inf.byIndex('byEdge', 'e1').map((o) => o.metadata?.name).sort(), ['r1', 'r2']);
    await client.patch(gadgets, 'r2', ns, { spec: { edge: 'e2' } });
    await until(() => inf.byIndex('byEdge', 'e2').length === 2, 10_000, 'the index to follow the update');
    assert.deepEqual(inf.byIndex('byEdge', 'e1').map((o) => o.metadata?.name), ['r1']);
  });
});
