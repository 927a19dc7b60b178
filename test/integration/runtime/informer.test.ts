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

  function informer(onRequest?: (i: RequestInfo) => void, lists?: { firstRv?: string }, gate?: () => Promise<void>): SupervisedInformer<Gadget> {
    const http = new KubeHttp(controlPlane().kubeConfig(), { onRequest });
    const lw = kubeListWatcher<Gadget>(new KubeClient(http), gadgets, { namespace: ns });
    let first = true;
    const inf = new SupervisedInformer<Gadget>(
      {
        list: async (signal) => {
          await gate?.();
          const r = await lw.list(signal);
          // Optionally pretend the first list was taken long ago, so the watch resumes from a stale version.
          if (first && lists?.firstRv) r.resourceVersion = lists.firstRv;
          first = false;
          return r;
        },
        watch: async (rv, onEvent, signal) => {
          await gate?.();
          return lw.watch(rv, onEvent, signal);
        },
      },
      { name: 'gadgets', logger: createLogger({ level: 'silent' }), backoff: { initialMs: 1500, maxMs: 3000, jitter: 0 } },
    );
    informers.push(inf);
    return inf;
  }

  it('misses no update, delete or create made while it was cut off by an apiserver restart', async function () {
    for (const n of ['keep', 'change', 'remove']) await client.create(gadgets, gadget(n, ns, { n: 1 }));
    const watches: Array<{ at: number; status: number }> = [];
    // While the gate is shut the informer cannot reconnect, so the writes below certainly fall
    // into its gap (otherwise a fast reconnect after the restart could see them live).
    let openGate: () => void = () => undefined;
    let gate: Promise<void> = Promise.resolve();
    const inf = informer(
      (i) => {
        if (i.method === 'WATCH') watches.push({ at: Date.now(), status: i.status });
      },
      undefined,
      () => gate,
    );
    const deleted: string[] = [];
    inf.on({ delete: (o) => deleted.push(o.metadata?.name ?? '') });
    inf.start();
    await inf.waitForSync();
    assert.deepEqual(inf.keys().sort(), [`${ns}/change`, `${ns}/keep`, `${ns}/remove`]);

    gate = new Promise((r) => (openGate = r));
    await controlPlane().stopApiserver();
    await controlPlane().startApiserver();
    await client.patch(gadgets, 'change', ns, { spec: { n: 2 } });
    await client.delete(gadgets, 'remove', ns);
    await client.create(gadgets, gadget('new', ns, { n: 3 }));
    const writesDone = Date.now();
    assert.equal(inf.get(`${ns}/remove`)?.metadata?.name, 'remove', 'the informer has not seen the writes yet');
    openGate();

    await until(() => inf.get(`${ns}/change`)?.spec?.n === 2 && !inf.get(`${ns}/remove`) && !!inf.get(`${ns}/new`), 30_000, 'the informer to catch up');
    assert.ok(
      watches.some((w) => w.status === 200 && w.at > writesDone),
      `the informer watched again after the writes (watches: ${JSON.stringify(watches)})`,
    );
    assert.deepEqual(deleted, ['remove'], 'the delete made during the gap was delivered as a delete event');
    // The cache equals the server.
    const server = await client.list<Gadget>(gadgets, { namespace: ns });
    assert.deepEqual(
      inf
        .list()
        .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
        .sort(),
      server.items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort(),
    );
  });

  it('retries with backoff while the apiserver is down and resumes by itself', async function () {
    await client.create(gadgets, gadget('a', ns, { n: 1 }));
    const inf = informer();
    inf.start();
    await inf.waitForSync();
    await controlPlane().stopApiserver();
    await new Promise((r) => setTimeout(r, 2_000)); // attempts fail meanwhile (connection refused)
    assert.ok(inf.stats.errors >= 1, `errors seen while down: ${inf.stats.errors}`);
    const errorsWhileDown = inf.stats.errors;
    assert.ok(errorsWhileDown <= 3, `backoff (1.5 s, then 3 s) limits attempts: ${errorsWhileDown} in 2 s`);
    await controlPlane().startApiserver();
    await client.patch(gadgets, 'a', ns, { spec: { n: 2 } });
    await until(() => inf.get(`${ns}/a`)?.spec?.n === 2, 15_000, 'the informer to resume and see the update');
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
    // Nor does the object a write answers with keep them: controllers hold those while they work.
    const patched = await client.patch<Gadget>(gadgets, 'r1', ns, { metadata: { annotations: { a: 'b' } } });
    assert.equal(patched.metadata?.annotations?.['a'], 'b');
    assert.equal(patched.metadata?.managedFields, undefined);
    const created = await client.create(gadgets, gadget('r4', ns, { edge: 'e3' }));
    assert.ok(created.metadata?.uid && created.metadata.managedFields === undefined);
    assert.deepEqual(
      inf
        .byIndex('byEdge', 'e1')
        .map((o) => o.metadata?.name)
        .sort(),
      ['r1', 'r2'],
    );
    await client.patch(gadgets, 'r2', ns, { spec: { edge: 'e2' } });
    await until(() => inf.byIndex('byEdge', 'e2').length === 2, 10_000, 'the index to follow the update');
    assert.deepEqual(
      inf.byIndex('byEdge', 'e1').map((o) => o.metadata?.name),
      ['r1'],
    );
  });
});
