import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/runtime/clock.ts';
import { KubeApiError } from '../../../src/runtime/errors.ts';
import { LeaderElector, type Lease, type LeaseStore } from '../../../src/runtime/leader-election.ts';

/** Leases in memory with the API server's optimistic concurrency (resourceVersion must match). */
class MemoryLeaseStore implements LeaseStore {
  lease: Lease | undefined;
  #rv = 0;
  down = false;
  writes = 0;

  get(): Promise<Lease | undefined> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(this.lease && structuredClone(this.lease));
  }
  create(l: Lease): Promise<Lease> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    if (this.lease) return Promise.reject(new KubeApiError('POST', '/leases', 409, { reason: 'AlreadyExists' }));
    return Promise.resolve(this.#store(l));
  }
  update(l: Lease): Promise<Lease> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    if (l.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
      return Promise.reject(new KubeApiError('PUT', '/leases', 409, { reason: 'Conflict' }));
    }
    return Promise.resolve(this.#store(l));
  }
  #store(l: Lease): Lease {
    this.writes++;
    this.lease = structuredClone({ ...l, metadata: { ...l.metadata, resourceVersion: String(++this.#rv) } });
    return structuredClone(this.lease);
  }
}

describe('LeaderElector', function () {
  let clock: ManualClock;
  let store: MemoryLeaseStore;
  const log: string[] = [];

  function candidate(identity: string, s: LeaseStore = store): LeaderElector {
    return new LeaderElector({
      store: s,
      leaseName: 'op',
      leaseNamespace: 'sys',
      identity,
      clock,
      random: () => 0,
      onStartedLeading: () => log.push(`${identity} leads`),
      onStoppedLeading: () => log.push(`${identity} lost`),
    });
  }

  beforeEach(function () {
    clock = new ManualClock();
    store = new MemoryLeaseStore();
    log.length = 0;
  });

  it('the first candidate creates the lease and leads; the second stands by while it renews', async function () {
    const a = candidate('a');
    const b = candidate('b');
    await a.start();
    await b.start();
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    assert.equal(store.lease?.spec?.holderIdentity, 'a');
    assert.equal(store.lease?.spec?.leaseDurationSeconds, 15);
    await clock.advance(60_000);
    assert.equal(b.isLeader, false, 'a renews every 2 s, so its lease never expires');
    assert.deepEqual(log, ['a leads']);
    assert.match(store.lease?.spec?.renewTime ?? '', /^2026-01-01T00:01:00\.000000Z$/);
    await a.stop();
    await b.stop();
  });

  it('a standby takes over once the dead leader’s lease has expired on its own clock, not before', async function () {
    const a = candidate('a');
    await a.start();
    const b = candidate('b');
    await b.start();
    // a is killed: from now on none of its writes reach the server.
    const realUpdate = store.update.bind(store);
    store.update = (l) => (l.spec?.holderIdentity === 'a' ? Promise.reject(new Error('killed')) : realUpdate(l));
    const t0 = clock.now();
    while (!b.isLeader) await clock.advance(500);
    const took = clock.now() - t0;
    // b saw a's last renewal at t0 (±one retry period); it waits a full lease duration after that.
    assert.ok(took >= 15_000 - 2_000 && took <= 15_000 + 2_500, `took over after ${took} ms`);
    assert.equal(store.lease?.spec?.holderIdentity, 'b');
    assert.equal(store.lease?.spec?.leaseTransitions, 1);
    assert.ok(log.includes('a lost'), 'a noticed it could not renew within its deadline');
    assert.ok(log.indexOf('a lost') < log.indexOf('b leads'), 'a stepped down before b took over');
    await b.stop();
    await a.stop();
  });

  it('releasing on stop lets a standby lead within one retry period', async function () {
    const a = candidate('a');
    const b = candidate('b');
    await a.start();
    await b.start();
    await clock.advance(5_000);
    await a.stop();
    assert.equal(store.lease?.spec?.holderIdentity, null);
    const t0 = clock.now();
    while (!b.isLeader) await clock.advance(100);
    assert.ok(clock.now() - t0 <= 2_400, `took ${clock.now() - t0} ms`);
    assert.ok(!log.includes('a lost'), 'a release is not a loss');
    await b.stop();
  });

  it('a leader that cannot renew for the renew deadline steps down', async function () {
    const a = candidate('a');
    await a.start();
    store.down = true;
    await clock.advance(9_000);
    assert.equal(a.isLeader, true);
    await clock.advance(2_000);
    assert.equal(a.isLeader, false);
    assert.deepEqual(log, ['a leads', 'a lost']);
    await a.stop();
  });

  it('two candidates racing for a fresh lease: exactly one wins', async function () {
    const a = candidate('a');
    const b = candidate('b');
    await Promise.all([a.start(), b.start()]);
    assert.equal(Number(a.isLeader) + Number(b.isLeader), 1);
    await a.stop();
    await b.stop();
  });

  it('stopped while its first attempt wins the lease, it releases it and starts nothing', async function () {
    let resolveGet: () => void = () => undefined;
    const slow: LeaseStore = {
      get: () => new Promise((r) => (resolveGet = () => r(undefined))),
      create: (l) => store.create(l),
      update: (l) => store.update(l),
    };
    const a = candidate('a', slow);
    const starting = a.start();
    await clock.advance(0);
    const stopping = a.stop();
    resolveGet();
    await stopping;
    await starting;
    assert.deepEqual(log, [], 'onStartedLeading was not called');
    assert.equal(store.lease?.spec?.holderIdentity, null, 'the lease it won was released');
  });

  it('rejects inconsistent timings', function () {
    assert.throws(
      () =>
        new LeaderElector({
          store,
          leaseName: 'x',
          leaseNamespace: 'y',
          identity: 'i',
          leaseDurationMs: 5000,
          renewDeadlineMs: 6000,
          onStartedLeading: () => {},
          onStoppedLeading: () => {},
        }),
      /leaseDurationMs must exceed renewDeadlineMs/,
    );
  });
});
