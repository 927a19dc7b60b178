// FloatingIPClaim and IPPrefixClaim end to end: the real kube-apiserver, the operator in-process,
// the simulator as VCD. Every test checks VCD's side through the simulator's state and audit log.
import assert from 'node:assert/strict';
import { VcdClient } from '../../../src/clients/vcd/index.ts';
import { SecretResource } from '../../../src/controllers/connections/controller.ts';
import { CLAIM_FINALIZER, PENDING_ANNOTATION } from '../../../src/controllers/ipam/controller.ts';
import { parseMarker } from '../../../src/reconcile/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createTenantConnection,
  floatingIPClaim,
  hasReason,
  ipPrefixClaim,
  isReady,
  readyOf,
  resources,
  startTestOperator,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

const ALLOCATE = 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate';
const ALLOCATION = 'PUT /cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}';

interface ClaimObj extends KubeObject {
  status?: {
    address?: string;
    prefix?: string;
    allocationId?: string;
    ipSpaceId?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

function allocations(sim: RunningSim, type = 'FLOATING_IP') {
  return (sim.admin.state().vcd.ipSpaces.find((s) => s.name === 'public-ips')?.allocations ?? []).filter((a) => a.type === type);
}

function allocateTasks(sim: RunningSim): number {
  return sim.admin.audit().filter((e) => e.route === ALLOCATE && e.status === 202).length;
}

describe('IP claims end to end', function () {
  this.timeout(120_000);
  // Short client retries keep the failure tests quick; each failure is one reconcile's worth.
  const operatorOptions = () => ({
    operatorNamespace: opNs,
    taskTimeoutMs: 5000,
    pendingWindowMs: 4000,
    clientOptions: { retry: { maxAttempts: 2, backoff: { initialDelayMs: 50, maxDelayMs: 100 } } },
  });
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let opNs: string;
  let ns: string;
  let clusterId: string;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    opNs = await freshNamespace('op');
    kube = userClient();
    op = await startTestOperator(operatorOptions());
    clusterId = op.operator.deps.clusterId;
  });
  after(async function () {
    await op?.stop();
    await sim?.stop();
  });
  beforeEach(async function () {
    ns = await freshNamespace('ipam');
    await createTenantConnection(kube, sim, ns, { org: 'acme' });
  });
  afterEach(async function () {
    // Leave no claim behind for later tests' operators; each delete goes through the release path.
    for (const r of [resources.fip, resources.ipp]) {
      const { items } = await kube.list(r, { namespace: ns });
      for (const it of items) {
        // A claim the test deleted itself may finish going away between the list and here.
        await kube.delete(r, it.metadata?.name ?? '', ns).catch((err: { code?: number }) => {
          if (err.code !== 404) throw err;
        });
      }
      for (const it of items) await waitFor(kube, r, ns, it.metadata?.name ?? '', (o) => o === undefined, 30_000);
    }
  });

  it('allocates a floating IP, marks it USED_MANUAL with the claim marker, and releases it on delete', async function () {
    const created = await kube.create(resources.fip, floatingIPClaim(ns, 'web', {}));
    const ready = await waitFor<ClaimObj>(kube, resources.fip, ns, 'web', isReady);
    const address = ready?.status?.address ?? '';
    assert.match(address, /^203\.0\.113\.\d+$/);
    assert.equal(readyOf(ready)?.reason, 'Allocated');
    assert.ok(ready?.metadata?.finalizers?.includes(CLAIM_FINALIZER));
    // The guard goes once the allocation is marked (Ready is written while VCD marks it).
    const settled = await waitFor<ClaimObj>(kube, resources.fip, ns, 'web', (o) => o?.metadata?.annotations?.[PENDING_ANNOTATION] === undefined, 10_000);
    assert.equal(settled?.status?.allocationId, ready?.status?.allocationId);

    const inVcd = allocations(sim).filter((a) => a.value === address);
    assert.equal(inVcd.length, 1);
    assert.equal(inVcd[0]?.usageState, 'USED_MANUAL');
    assert.equal(inVcd[0]?.id, ready?.status?.allocationId);
    assert.deepEqual(parseMarker(inVcd[0]?.description), {
      clusterId,
      kind: 'FloatingIPClaim',
      namespace: ns,
      name: 'web',
      uid: created.metadata?.uid,
      retained: false,
    });

    await kube.delete(resources.fip, 'web', ns);
    await waitFor(kube, resources.fip, ns, 'web', (o) => o === undefined);
    assert.deepEqual(
      allocations(sim).filter((a) => a.value === address),
      [],
    );
  });

  it('allocates a prefix of the requested length and a specific address', async function () {
    await kube.create(resources.ipp, ipPrefixClaim(ns, 'net', { prefixLength: 28 }));
    await kube.create(resources.fip, floatingIPClaim(ns, 'fixed', { address: '203.0.113.77' }));
    const prefix = await waitFor<ClaimObj>(kube, resources.ipp, ns, 'net', isReady);
    assert.match(prefix?.status?.prefix ?? '', /^198\.51\.100\.\d+\/28$/);
    assert.equal(allocations(sim, 'IP_PREFIX').filter((a) => a.value === prefix?.status?.prefix && a.usageState === 'USED_MANUAL').length, 1);
    const fixed = await waitFor<ClaimObj>(kube, resources.fip, ns, 'fixed', isReady);
    assert.equal(fixed?.status?.address, '203.0.113.77');
  });

  it('reports an address VCD refuses as AddressUnavailable, and writes nothing for it', async function () {
    await kube.create(resources.fip, floatingIPClaim(ns, 'taken', { address: '203.0.113.78' }));
    await waitFor(kube, resources.fip, ns, 'taken', isReady);
    const before = allocations(sim).length;
    await kube.create(resources.fip, floatingIPClaim(ns, 'again', { address: '203.0.113.78' }));
    const refused = await waitFor<ClaimObj>(kube, resources.fip, ns, 'again', hasReason('AddressUnavailable'));
    assert.match(readyOf(refused)?.message ?? '', /203\.0\.113\.78/);
    assert.equal(allocations(sim).length, before);
  });

  it('sends an address VCD refuses once, not in a loop: no further allocate while the spec is unchanged', async function () {
    const calls = sim.admin.callCount(ALLOCATE);
    // Outside every range of public-ips: VCD refuses it every time it is asked.
    await kube.create(resources.fip, floatingIPClaim(ns, 'outside', { address: '198.51.100.250' }));
    const refused = await waitFor<ClaimObj>(kube, resources.fip, ns, 'outside', hasReason('AddressUnavailable'));
    const version = refused?.metadata?.resourceVersion;
    await new Promise((r) => setTimeout(r, 5_000));
    assert.equal(sim.admin.callCount(ALLOCATE) - calls, 1, 'one allocate for the refused address in five seconds');
    const later = await kube.get<ClaimObj>(resources.fip, 'outside', ns);
    assert.equal(later?.metadata?.resourceVersion, version, 'the claim is not rewritten while nothing changes');
    assert.equal(later?.status?.conditions?.find((c) => c.type === 'Synced')?.reason, 'AddressUnavailable');
  });

  it('survives conflicting writes to claims while their allocate tasks run: no unhandled rejection, all Ready', async function () {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      sim.admin.setKnobs({ taskDurationMs: 300 });
      // Eight: the fixture gives acme a quota of ten floating IPs.
      const names = Array.from({ length: 8 }, (_, i) => `busy-${i}`);
      await Promise.all(names.map((n) => kube.create(resources.fip, floatingIPClaim(ns, n, {}))));
      // Another writer keeps changing the claims, so guard writes guarded by resourceVersion meet 409s.
      let stop = false;
      const meddler = (async () => {
        for (let round = 0; !stop && round < 200; round++) {
          await Promise.all(names.map((n) => kube.patch(resources.fip, n, ns, { metadata: { labels: { round: String(round) } } }).catch(() => undefined)));
        }
      })();
      const ready = await Promise.all(names.map((n) => waitFor<ClaimObj>(kube, resources.fip, ns, n, isReady, 60_000)));
      stop = true;
      await meddler;
      assert.equal(new Set(ready.map((c) => c?.status?.address)).size, names.length);
      assert.deepEqual(unhandled, []);
    } finally {
      sim.admin.setKnobs({ taskDurationMs: 30 });
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('shares allocate calls: seven pending claims take two allocate tasks', async function () {
    const tasksBefore = allocateTasks(sim);
    // The claims wait for a connection that does not exist yet, as when a team applies a
    // directory whose connection comes last; then they are all pending together.
    await Promise.all(Array.from({ length: 7 }, (_, i) => kube.create(resources.fip, floatingIPClaim(ns, `batch-${i}`, { connection: 'late' }))));
    await waitFor(kube, resources.fip, ns, 'batch-6', hasReason('ConnectionNotFound'));
    await createTenantConnection(kube, sim, ns, { org: 'acme', name: 'late' });
    const ready = await Promise.all(Array.from({ length: 7 }, (_, i) => waitFor<ClaimObj>(kube, resources.fip, ns, `batch-${i}`, isReady)));
    assert.equal(new Set(ready.map((c) => c?.status?.address)).size, 7);
    assert.equal(allocateTasks(sim) - tasksBefore, 2);
    for (const c of ready) assert.equal(allocations(sim).filter((a) => a.id === c?.status?.allocationId && a.usageState === 'USED_MANUAL').length, 1);
  });

  it('reports QuotaExceeded with the quota, and becomes Ready by itself when quota frees up', async function () {
    // globex gets a custom quota of two floating IPs on public-ips, set by the provider.
    const provider = await VcdClient.connect({ url: sim.vcd.url, org: 'System', auth: { apiToken: sim.credentials.provider.apiToken }, caPem: sim.caPem });
    try {
      const space = await provider.ipSpaces.findByName('public-ips');
      const assignment = (await provider.ipSpaces.orgAssignments.list({ ipSpaceId: space?.id ?? '' })).find((a) => a.orgRef.name === 'globex');
      assert.ok(assignment?.id, 'globex has an org assignment on public-ips');
      await provider.ipSpaces.orgAssignments.update(assignment.id, { floatingIpQuota: 2 });
    } finally {
      await provider.close();
    }
    await createTenantConnection(kube, sim, ns, { org: 'globex' });
    for (const n of ['q1', 'q2']) await kube.create(resources.fip, floatingIPClaim(ns, n, { connection: 'globex-conn' }));
    for (const n of ['q1', 'q2']) await waitFor(kube, resources.fip, ns, n, isReady);
    const writesBefore = sim.admin.audit().length;
    await kube.create(resources.fip, floatingIPClaim(ns, 'q3', { connection: 'globex-conn' }));
    const blocked = await waitFor<ClaimObj>(kube, resources.fip, ns, 'q3', hasReason('QuotaExceeded'));
    assert.match(readyOf(blocked)?.message ?? '', /quota/i);
    assert.equal(allocations(sim).filter((a) => a.org === 'globex').length, 2);
    // No allocation was left behind by the refused request.
    assert.equal(
      sim.admin
        .audit(0)
        .slice(writesBefore)
        .filter((e) => e.route === ALLOCATION).length,
      0,
    );

    await kube.delete(resources.fip, 'q1', ns);
    const freed = await waitFor<ClaimObj>(kube, resources.fip, ns, 'q3', isReady, 60_000);
    assert.match(freed?.status?.address ?? '', /^203\.0\.113\./);
    assert.equal(allocations(sim).filter((a) => a.org === 'globex').length, 2);
  });

  it('keeps the allocation, marked retained, when a claim with reclaimPolicy Retain is deleted', async function () {
    await kube.create(resources.fip, floatingIPClaim(ns, 'keep', { reclaimPolicy: 'Retain' }));
    const ready = await waitFor<ClaimObj>(kube, resources.fip, ns, 'keep', isReady);
    await kube.delete(resources.fip, 'keep', ns);
    await waitFor(kube, resources.fip, ns, 'keep', (o) => o === undefined);
    const kept = allocations(sim).find((a) => a.id === ready?.status?.allocationId);
    assert.equal(kept?.usageState, 'USED_MANUAL');
    assert.equal(parseMarker(kept?.description)?.retained, true);
  });

  it('releases where VCD refuses to delete a used allocation, by unmarking it first', async function () {
    sim.admin.setKnobs({ rejectDeleteOfUsedAllocation: true });
    try {
      await kube.create(resources.fip, floatingIPClaim(ns, 'picky', {}));
      const ready = await waitFor<ClaimObj>(kube, resources.fip, ns, 'picky', isReady);
      await kube.delete(resources.fip, 'picky', ns);
      await waitFor(kube, resources.fip, ns, 'picky', (o) => o === undefined);
      assert.equal(
        allocations(sim).some((a) => a.id === ready?.status?.allocationId),
        false,
      );
    } finally {
      sim.admin.setKnobs({ rejectDeleteOfUsedAllocation: false });
    }
  });

  it('gives back the allocation of a claim whose finalizer was removed by hand', async function () {
    await kube.create(resources.fip, floatingIPClaim(ns, 'forced', {}));
    const ready = await waitFor<ClaimObj>(kube, resources.fip, ns, 'forced', isReady);
    const id = ready?.status?.allocationId;
    // VCD fails every release, so the claim hangs in deletion, and its user forces it out.
    sim.admin.addFault({ route: 'DELETE /cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}', kind: 'status', status: 500 });
    await kube.delete(resources.fip, 'forced', ns);
    // Wait until the release has failed for good (retries spent, Synced=False), then force.
    await waitFor<ClaimObj>(kube, resources.fip, ns, 'forced', (o) => o?.status?.conditions?.find((c) => c.type === 'Synced')?.status === 'False', 60_000);
    await kube.patch(resources.fip, 'forced', ns, { metadata: { finalizers: null } });
    await waitFor(kube, resources.fip, ns, 'forced', (o) => o === undefined);
    // Let any release still retrying for the claim run out, so only the sweep can succeed later.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(allocations(sim).find((a) => a.id === id)?.usageState, 'USED_MANUAL', 'the allocation is still held, and still marked');
    sim.admin.clearFaults();
    // The group's last claim is gone; its sweep finds the orphan by its marker.
    const deadline = Date.now() + 60_000;
    while (allocations(sim).some((a) => a.id === id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      allocations(sim).some((a) => a.id === id),
      false,
      'the orphaned allocation was released',
    );
  });

  it('uses a rotated Secret without a restart', async function () {
    await createTenantConnection(kube, sim, ns, { org: 'globex', name: 'rotating', apiToken: 'not-a-valid-token' });
    const bad = await waitFor(kube, resources.conn, ns, 'rotating', hasReason('CredentialsInvalid'));
    assert.equal(readyOf(bad)?.status, 'False');
    await kube.create(resources.fip, floatingIPClaim(ns, 'waits', { connection: 'rotating' }));
    await waitFor(kube, resources.fip, ns, 'waits', hasReason('ConnectionNotReady'));
    const token = sim.credentials.tenants.find((t) => t.org === 'globex')?.apiToken ?? '';
    await kube.patch(SecretResource, 'rotating-creds', ns, { stringData: { apiToken: token } });
    await waitFor(kube, resources.conn, ns, 'rotating', isReady);
    await waitFor(kube, resources.fip, ns, 'waits', isReady, 60_000);
  });

  it('keeps a claim Ready but not Synced while VCD fails, and Synced again once it recovers', async function () {
    await kube.create(resources.fip, floatingIPClaim(ns, 'steady', {}));
    const ready = await waitFor<ClaimObj>(kube, resources.fip, ns, 'steady', isReady);
    sim.admin.addFault({ route: 'GET /cloudapi/1.0.0/ipSpaces/{id}/allocations', kind: 'status', status: 503 });
    // Another claim in the group makes the group reconcile, and the allocation list fails.
    await kube.create(resources.fip, floatingIPClaim(ns, 'newcomer', {}));
    const synced = (o: ClaimObj | undefined) => o?.status?.conditions?.find((c) => c.type === 'Synced');
    const failing = await waitFor<ClaimObj>(kube, resources.fip, ns, 'steady', (o) => synced(o)?.status === 'False', 60_000);
    assert.equal(readyOf(failing)?.status, 'True', 'the allocation still exists, so the claim stays Ready');
    assert.equal(failing?.status?.address, ready?.status?.address);
    assert.match(synced(failing)?.message ?? '', /503|failed/);
    sim.admin.clearFaults();
    await waitFor<ClaimObj>(kube, resources.fip, ns, 'steady', (o) => synced(o)?.status === 'True', 60_000);
    await waitFor(kube, resources.fip, ns, 'newcomer', isReady, 60_000);
  });

  it('recovers from an allocate response lost after VCD committed it: one allocation per claim, all marked', async function () {
    sim.admin.addFault({ route: ALLOCATE, kind: 'drop-after-commit', times: 1 });
    const calls = sim.admin.callCount(ALLOCATE);
    await kube.create(resources.fip, floatingIPClaim(ns, 'lost', {}));
    const ready = await waitFor<ClaimObj>(kube, resources.fip, ns, 'lost', isReady, 60_000);
    assert.deepEqual(sim.admin.faults(), [], 'the fault fired');
    assert.equal(sim.admin.callCount(ALLOCATE) - calls, 1, 'allocate was not sent again');
    const mine = allocations(sim).filter((a) => parseMarker(a.description)?.name === 'lost' && parseMarker(a.description)?.namespace === ns);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]?.id, ready?.status?.allocationId);
    assert.equal(allocations(sim).filter((a) => a.usageState === 'UNUSED').length, 0, 'no unmarked allocation is left');
  });

  it('recovers when the operator stops between allocate and mark', async function () {
    // Every mark fails, so the operator is left holding an unmarked allocation and a pending guard.
    sim.admin.addFault({ route: ALLOCATION, kind: 'status', status: 500 });
    await kube.create(resources.fip, floatingIPClaim(ns, 'crash', {}));
    await waitFor<ClaimObj>(
      kube,
      resources.fip,
      ns,
      'crash',
      (o) => !!o?.metadata?.annotations?.[PENDING_ANNOTATION] && allocations(sim).some((a) => a.usageState === 'UNUSED'),
    );
    await op.stop();
    sim.admin.clearFaults();
    const unmarked = allocations(sim).filter((a) => a.usageState === 'UNUSED');
    assert.equal(unmarked.length, 1);
    // Ready as soon as VCD allocated; the guard stays while the allocation is unmarked.
    const before = await kube.get<ClaimObj>(resources.fip, 'crash', ns);
    assert.equal(readyOf(before)?.status, 'True');
    assert.equal(before.status?.allocationId, unmarked[0]?.id);

    op = await startTestOperator(operatorOptions());
    // The guard goes once the allocation is marked.
    const settled = await waitFor<ClaimObj>(
      kube,
      resources.fip,
      ns,
      'crash',
      (o) => isReady(o) && o?.metadata?.annotations?.[PENDING_ANNOTATION] === undefined,
      60_000,
    );
    assert.equal(settled?.status?.allocationId, unmarked[0]?.id, 'the earlier allocation was adopted, not a new one made');
    assert.equal(allocations(sim).filter((a) => a.usageState === 'UNUSED').length, 0);
    const mine = allocations(sim).filter((a) => parseMarker(a.description)?.name === 'crash' && parseMarker(a.description)?.namespace === ns);
    assert.deepEqual(
      mine.map((a) => a.id),
      [unmarked[0]?.id],
    );
  });
});
