// The Manager and its controllers against a real kube-apiserver: coalescing, retry backoff,
// idle status writes, finalizers, events and probes. Every figure is counted, not assumed.
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';
import {
  createLogger,
  findCondition,
  KubeClient,
  KubeHttp,
  Manager,
  objectKey,
  type ControllerDefinition,
  type KubeObject,
  type RequestInfo,
  type ResourceType,
} from '../../../src/runtime/index.ts';
import { gadget, gadgetCRD, gadgets, until, type Gadget } from './gadget-crd.ts';

const secrets: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Manager against kube-apiserver', function () {
  this.timeout(90_000);
  let ns: string;
  let client: KubeClient;
  let manager: Manager | undefined;
  let requests: RequestInfo[];

  before(async function () {
    await controlPlane().installCRDs([structuredClone(gadgetCRD)]);
  });
  beforeEach(async function () {
    ns = await freshNamespace('mgr');
    client = new KubeClient(new KubeHttp(controlPlane().kubeConfig()));
    requests = [];
  });
  afterEach(async function () {
    await manager?.stop();
    manager = undefined;
  });

  function start(def: ControllerDefinition<Gadget>, probes = false, gracefulShutdownTimeoutMs = 5_000): Promise<void> {
    manager = new Manager({
      kubeConfig: controlPlane().kubeConfig(),
      logger: createLogger({ level: 'silent' }),
      namespace: ns,
      registry: new Registry(),
      probes: probes ? { port: 0, host: '127.0.0.1' } : undefined,
      onRequest: (i) => requests.push(i),
      gracefulShutdownTimeoutMs,
    });
    manager.addController(def);
    return manager.start();
  }

  const statusWrites = (): number => requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status')).length;

  it('coalesces 1,000 rapid updates of one object into far fewer reconciles, the last seeing the final state', async function () {
    await client.create(gadgets, gadget('hot', ns, { n: 0 }));
    const seen: number[] = [];
    await start({
      name: 'hot',
      for: gadgets,
      async reconcile(key, ctx) {
        seen.push(ctx.informer.get(key)?.spec?.n ?? -1);
        await sleep(50); // a reconcile costs something, as a cloud call would
      },
    });
    const t0 = Date.now();
    const updates = 1000;
    // Ten writers in parallel, each sending its share of increasing values in order.
    let next = 1;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next <= updates) {
          const n = next++;
          await client.patch(gadgets, 'hot', ns, { spec: { n } });
        }
      }),
    );
    const writeMs = Date.now() - t0;
    const final = (await client.get<Gadget>(gadgets, 'hot', ns)).spec?.n;
    await until(() => seen.at(-1) === final, 20_000, 'a reconcile that sees the final state');
    await sleep(300);
    console.log(`      ${updates} updates in ${writeMs} ms -> ${seen.length} reconciles; last saw n=${seen.at(-1)} (final ${final})`);
    // One key is reconciled by one worker at a time, 50 ms each: at most one reconcile per 50 ms
    // of writing, plus the one that catches the final state.
    assert.ok(seen.length <= Math.ceil(writeMs / 50) + 2, `${seen.length} reconciles in ${writeMs} ms`);
    assert.ok(seen.length < updates / 4, `${seen.length} reconciles for ${updates} updates`);
    assert.equal(seen.at(-1), final);
  });

  it('retries a failing reconcile with growing intervals, and recovers when the cause goes', async function () {
    await client.create(gadgets, gadget('conn', ns, { n: 1 }));
    const attempts: number[] = [];
    await start({
      name: 'needs-secret',
      for: gadgets,
      // A Secret change wakes the gadget that depends on it.
      watches: [{ resource: secrets, keysFor: (s) => ((s as KubeObject).metadata?.name === 'creds' ? [`${ns}/conn`] : []) }],
      async reconcile(key, ctx) {
        attempts.push(performance.now());
        const obj = ctx.informer.get(key);
        if (!obj) return;
        const secret = manager?.informer<KubeObject>(secrets).get(`${ns}/creds`);
        if (!secret) throw new Error('credentials Secret creds not found');
        await ctx.status.patchStatus(obj, (s: NonNullable<Gadget['status']>) => {
          ctx.status.setCondition((s.conditions ??= []), {
            type: 'Ready',
            status: 'True',
            reason: 'Connected',
            message: 'ok',
            observedGeneration: obj.metadata?.generation,
          });
        });
      },
    });
    await until(() => attempts.length >= 10, 20_000, '10 failed attempts');
    const gaps = attempts.slice(1, 10).map((t, i) => t - (attempts[i] ?? 0));
    console.log(`      retry gaps (ms): ${gaps.map((g) => g.toFixed(0)).join(', ')}`);
    // Per-key backoff 5 ms · 2^k: a timer never fires early, so each gap is at least its step.
    gaps.forEach((g, k) => assert.ok(g >= 5 * 2 ** k - 1, `gap ${k} was ${g.toFixed(1)} ms, expected ≥ ${5 * 2 ** k}`));
    assert.ok((gaps[8] ?? 0) > 4 * (gaps[5] ?? 0) * 0.9, 'intervals keep doubling');
    assert.ok((gaps[8] ?? 0) < 2 * 1280, `gap 8 (${gaps[8]} ms) stays below the next step: the key is not held back further`);

    await client.create(secrets, { metadata: { name: 'creds', namespace: ns }, data: { token: Buffer.from('x').toString('base64') } } as KubeObject);
    await until(
      async () => findCondition((await client.get<Gadget>(gadgets, 'conn', ns)).status?.conditions, 'Ready')?.status === 'True',
      10_000,
      'Ready after the Secret appears',
    );
  });

  it('makes zero status writes while idle over 100 Ready objects through resync periods', async function () {
    const count = 100;
    await Promise.all(Array.from({ length: count }, (_, i) => client.create(gadgets, gadget(`g${i}`, ns, { n: i }))));
    let reconciles = 0;
    await start({
      name: 'idle',
      for: gadgets,
      resyncPeriodMs: 2_000,
      maxConcurrentReconciles: 4,
      async reconcile(key, ctx) {
        reconciles++;
        const obj = ctx.informer.get(key);
        if (!obj) return;
        await ctx.status.patchStatus(obj, (s: NonNullable<Gadget['status']>) => {
          s.seen = obj.spec?.n;
          ctx.status.setCondition((s.conditions ??= []), {
            type: 'Ready',
            status: 'True',
            reason: 'InSync',
            message: 'in sync',
            observedGeneration: obj.metadata?.generation,
          });
        });
      },
    });
    await until(
      () =>
        manager
          ?.informer<Gadget>(gadgets)
          .list()
          .filter((g) => findCondition(g.status?.conditions, 'Ready')?.status === 'True').length === count,
      30_000,
      'all Ready',
    );
    // The watch echo of the last write can reach the informer before its response reaches the
    // request hook, so the write count catches up a moment after the last object turns Ready.
    await until(() => statusWrites() >= count, 5_000, 'a status write per object');
    // Let the last writes and their watch echoes settle before counting.
    await sleep(1_000);
    const writesToReady = statusWrites();
    const before = { writes: statusWrites(), reconciles };
    await sleep(5_000); // over two resync periods
    const idleReconciles = reconciles - before.reconciles;
    const idleWrites = statusWrites() - before.writes;
    console.log(`      idle window: ${idleReconciles} reconciles, ${idleWrites} status writes (${writesToReady} writes to reach Ready)`);
    assert.ok(idleReconciles >= 2 * count, `resync ran (${idleReconciles} reconciles)`);
    assert.equal(idleWrites, 0);
  });

  it('guards finalizers by resourceVersion, aggregates repeated events, and serves metrics and probes', async function () {
    const created = await client.create(gadgets, gadget('f', ns));
    const done: string[] = [];
    await start(
      {
        name: 'fin',
        for: gadgets,
        async reconcile(key, ctx) {
          const obj = ctx.informer.get(key);
          if (!obj || done.includes(key)) return;
          done.push(key);
          const withFin = await ctx.finalizers.ensure(obj, 'runtime.vcd-operator.io/cleanup');
          assert.deepEqual(withFin.metadata?.finalizers, ['runtime.vcd-operator.io/cleanup']);
          // A stale copy must not clobber: the server refuses it with a conflict.
          await assert.rejects(ctx.finalizers.ensure(created, 'other.io/x'), (e: { code?: number }) => e.code === 409);
          await ctx.finalizers.remove(withFin, 'runtime.vcd-operator.io/cleanup');
          for (let i = 0; i < 3; i++) ctx.events.record(obj, { type: 'Warning', reason: 'QuotaExceeded', message: 'IP Space quota exceeded' });
          ctx.events.record(obj, { type: 'Normal', reason: 'Allocated', message: 'allocated 10.0.0.1' });
        },
      },
      true,
    );
    await until(() => done.length === 1, 10_000, 'the reconcile');
    await until(
      async () => {
        const list = await client.list<KubeObject & { reason?: string; series?: { count?: number } }>(
          { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
          { namespace: ns },
        );
        const warn = list.items.filter((e) => e.reason === 'QuotaExceeded');
        return list.items.length === 2 && warn.length === 1 && warn[0]?.series?.count === 3;
      },
      10_000,
      'two Events, the repeated one with series.count 3',
    );
    const obj = await client.get<Gadget>(gadgets, 'f', ns);
    assert.equal(obj.metadata?.finalizers, undefined);

    const port = manager?.probesPort;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of [
      'controller_runtime_reconcile_total',
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds',
      'controller_runtime_active_workers',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds',
      'workqueue_work_duration_seconds',
      'workqueue_retries_total',
    ]) {
      assert.match(metrics, new RegExp(`^${name}`, 'm'), name);
    }
    assert.match(metrics, /controller_runtime_reconcile_total\{controller="fin",result="success"\} [1-9]/);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'single');
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    await manager?.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    assert.equal(objectKey(obj), `${ns}/f`);
  });

  it('stop() lets an in-flight reconcile finish and takes no new keys', async function () {
    await client.create(gadgets, gadget('slow', ns));
    let finished = 0;
    let started = 0;
    await start({
      name: 'slow',
      for: gadgets,
      async reconcile() {
        started++;
        await sleep(1_000);
        finished++;
      },
    });
    await until(() => started === 1, 10_000, 'the reconcile to start');
    const stopping = manager?.stop();
    await client.patch(gadgets, 'slow', ns, { spec: { n: 5 } });
    await stopping;
    assert.equal(finished, 1, 'the in-flight reconcile completed before stop() resolved');
    assert.equal(started, 1, 'no key was taken after stop began');
  });

  it('stop() aborts a reconcile still running at the shutdown deadline', async function () {
    await client.create(gadgets, gadget('stuck', ns));
    let aborted = false;
    let started = false;
    await start(
      {
        name: 'stuck',
        for: gadgets,
        reconcile: (_key, ctx) =>
          new Promise<void>((resolve) => {
            started = true;
            // A reconcile waiting on a long cloud task; it gives up when told to.
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            });
          }),
      },
      false,
      500,
    );
    await until(() => started, 10_000, 'the reconcile to start');
    const t0 = Date.now();
    await manager?.stop();
    const took = Date.now() - t0;
    assert.equal(aborted, true);
    assert.ok(took >= 450 && took < 3_000, `stop took ${took} ms with a 500 ms deadline`);
  });

  it('runs runnables after caches sync and leader-only ones once leading, feeds source keys to the controller, and stops them all', async function () {
    await client.create(gadgets, gadget('g1', ns));
    const events: string[] = [];
    const bus = new EventTarget(); // stands in for a message-bus subscription
    const untilAborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    let leading = false;
    manager = new Manager({
      kubeConfig: controlPlane().kubeConfig(),
      logger: createLogger({ level: 'silent' }),
      namespace: ns,
      registry: new Registry(),
      gracefulShutdownTimeoutMs: 5_000,
      leaderElection: {
        enabled: true,
        leaseName: 'runnables',
        leaseNamespace: ns,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 200,
        onStarted: () => (leading = true),
        onLost: () => undefined,
      },
    });
    const mgr = manager;
    mgr.addController<Gadget>({
      name: 'bus',
      for: gadgets,
      sources: [
        {
          name: 'bus',
          async start(enqueue, signal) {
            events.push(`source started (leader ${mgr.isLeader})`);
            const onMessage = (e: Event): void => enqueue([(e as CustomEvent<string>).detail]);
            bus.addEventListener('message', onMessage);
            await untilAborted(signal);
            bus.removeEventListener('message', onMessage);
            events.push('source stopped');
          },
        },
      ],
      reconcile(key) {
        events.push(`reconcile ${key}`);
        return Promise.resolve();
      },
    });
    let pollerRuns = 0;
    mgr.add({
      name: 'cache-user',
      async start(signal) {
        events.push(`cache-user started (synced ${mgr.informer(gadgets).hasSynced()})`);
        await untilAborted(signal);
        await sleep(100); // closing takes a moment, and stop() waits for it
        events.push('cache-user stopped');
      },
    });
    mgr.add(
      {
        name: 'poller',
        async start(signal) {
          pollerRuns++;
          if (pollerRuns === 1) throw new Error('first poll fails');
          await untilAborted(signal);
        },
      },
      { leaderOnly: true },
    );
    await mgr.start();
    await until(() => leading && events.includes('source started (leader true)'), 10_000, 'leadership and the source');
    assert.equal(events[0], 'cache-user started (synced true)');
    await until(() => events.includes(`reconcile ${ns}/g1`), 10_000, 'the informer key');
    bus.dispatchEvent(new CustomEvent('message', { detail: 'edge/e1' }));
    await until(() => events.includes('reconcile edge/e1'), 5_000, 'the key from the bus');
    await until(() => pollerRuns === 2, 5_000, 'the failed runnable to be restarted after its backoff');
    await mgr.stop();
    manager = undefined;
    assert.ok(events.includes('source stopped'));
    assert.ok(events.includes('cache-user stopped'), 'stop() resolved only after the runnable returned');
    bus.dispatchEvent(new CustomEvent('message', { detail: 'edge/e2' }));
    await sleep(100);
    assert.ok(!events.includes('reconcile edge/e2'), 'nothing reconciled after stop');
  });
});
