// The claim executor below the integration tier: a scripted VCD allocation API, an in-memory
// apiserver, and the claims' plan carried out with faults injected at each point where the
// operator can stop (allocate sent and lost, allocate done but marking failed). Whatever the
// crash point, the next reconcile ends with one marked allocation per claim and no second
// allocate for what already exists.
import assert from 'node:assert/strict';
import { FloatingIPClaimResource, Reasons } from '../../../src/api/index.ts';
import { CloudNetworkError, VcdApiError, type AllocationResult, type VcdClient } from '../../../src/clients/vcd/index.ts';
import type { ControllerDeps } from '../../../src/controllers/deps.ts';
import { ClaimExecutor, type ClaimStatus, type KindInfo } from '../../../src/controllers/ipam/executor.ts';
import type { Claim } from '../../../src/controllers/ipam/group.ts';
import { plan, type ClaimView } from '../../../src/controllers/ipam/plan.ts';
import { groupedController, jsonKeyCodec, parseMarker, pendingSince, type EngineOptions } from '../../../src/reconcile/index.ts';
import { FakeKube } from '../reconcile/fake-kube.ts';

interface Held {
  id: string;
  value: string;
  usageState: string;
  description?: string;
  allocationDate: string;
}

/** The allocation API of one IP Space, with faults at the points where the operator can stop. */
class FakeAllocations {
  readonly held: Held[] = [];
  allocateCalls = 0;
  /** 'lose': the allocate happens and its answer is lost; 'refuse': VCD refuses it. */
  allocateFault: 'lose' | 'refuse' | undefined;
  failMarks = 0;
  #next = 10;
  readonly clock: { now(): number };
  constructor(clock: { now(): number }) {
    this.clock = clock;
  }

  client(): VcdClient {
    const allocations = {
      list: () => Promise.resolve(this.held.map((h) => ({ ...h, type: 'FLOATING_IP' }))),
      put: (_space: string, id: string, body: { usageState: string; description: string }) => {
        if (this.failMarks > 0) {
          this.failMarks--;
          return Promise.reject(
            new VcdApiError({ operation: 'allocations.put', status: 503, minorErrorCode: undefined, serverMessage: 'unavailable', requestId: undefined }),
          );
        }
        const h = this.held.find((x) => x.id === id);
        if (h) Object.assign(h, { usageState: body.usageState, description: body.description });
        return Promise.resolve(h);
      },
      delete: (_space: string, id: string) => {
        const i = this.held.findIndex((x) => x.id === id);
        if (i >= 0) this.held.splice(i, 1);
        return Promise.resolve(i >= 0);
      },
    };
    const allocate = (_space: string, req: { quantity?: number; value?: string }): Promise<AllocationResult[]> => {
      this.allocateCalls++;
      if (this.allocateFault === 'refuse')
        return Promise.reject(
          new VcdApiError({
            operation: 'ipSpaces.allocate',
            status: 400,
            minorErrorCode: 'BAD_REQUEST',
            serverMessage: 'not in any range',
            requestId: undefined,
          }),
        );
      const made: AllocationResult[] = [];
      for (let i = 0; i < (req.quantity ?? 1); i++) {
        const n = this.#next++;
        const h: Held = { id: `a${n}`, value: req.value ?? `203.0.113.${n}`, usageState: 'UNUSED', allocationDate: new Date(this.clock.now()).toISOString() };
        this.held.push(h);
        made.push({ id: h.id, value: h.value });
      }
      if (this.allocateFault === 'lose') {
        this.allocateFault = undefined;
        return Promise.reject(new CloudNetworkError('vcd', 'ipSpaces.allocate', 'ECONNRESET', 'socket hang up', true));
      }
      return Promise.resolve(made);
    };
    return { ipSpaces: { allocate, allocations } } as unknown as VcdClient;
  }
}

const info: KindInfo = {
  kind: 'FloatingIPClaim',
  resource: FloatingIPClaimResource,
  type: 'FLOATING_IP',
  valueField: 'address',
  requested: (c) => ('address' in c.spec ? c.spec.address : undefined),
  prefixLength: () => undefined,
};

describe('claim executor', function () {
  let kube: FakeKube;
  let vcd: FakeAllocations;
  const clusterId = 'cluster-1';
  const codec = jsonKeyCodec<{ g: string }>('claims-test', (v): v is { g: string } => typeof (v as { g?: unknown } | undefined)?.g === 'string');
  const key = codec.encode({ g: 'space' });

  let def: ReturnType<typeof groupedController<Claim, { g: string }, ClaimStatus>>;

  beforeEach(function () {
    kube = new FakeKube();
    vcd = new FakeAllocations(kube.clock);
    def = definition();
  });

  function add(name: string, spec: Record<string, unknown> = {}): void {
    kube.add(name, { ...spec });
    const o = kube.get(name);
    kube.objects.set(`ns/${name}`, { ...o, kind: 'FloatingIPClaim' });
  }

  function definition() {
    const opts: EngineOptions = {
      clock: kube.clock,
      namespaceInScope: () => true,
      pendingWindowMs: 600_000,
      driftCheckMs: 600_000,
      retryMs: 30_000,
      pollPendingMs: 1000,
    };
    const deps = {
      clusterId,
      manager: { clock: kube.clock },
      pendingWindowMs: opts.pendingWindowMs,
      namespaceInScope: () => true,
    } as unknown as ControllerDeps;
    const view = (c: Claim): ClaimView => {
      const since = pendingSince(c);
      return {
        uid: c.metadata?.uid ?? '',
        namespace: 'ns',
        name: c.metadata?.name ?? '',
        deleting: !!c.metadata?.deletionTimestamp,
        reclaimPolicy: 'Delete',
        ...(since !== undefined ? { pendingSince: new Date(since) } : {}),
        ...(c.status?.allocationId ? { statusAllocationId: c.status.allocationId } : {}),
        ...('address' in c.spec && c.spec.address ? { requestedValue: c.spec.address } : {}),
      };
    };
    const def = groupedController<Claim, { g: string }, ClaimStatus>(
      {
        name: 'floatingipclaim',
        resource: FloatingIPClaimResource,
        finalizer: 'vcd-operator.io/allocation',
        codec,
        keyOf: () => ({ g: 'space' }),
        admit: [],
        holdsCloudState: (c) => !!c.status?.allocationId || pendingSince(c) !== undefined,
        reconcile: async (_k, group) => {
          // As the claim controller does: a member VCD refused stays out until its delay passes.
          const claims = group.members.filter((m) => group.refusedUntil(m.metadata?.uid ?? '') === undefined).map(view);
          const allocations = (await vcd.client().ipSpaces.allocations.list('s', { type: 'FLOATING_IP' })).map((a) => ({
            id: a.id ?? '',
            value: a.value ?? '',
            usageState: a.usageState ?? 'UNUSED',
            ...(a.description ? { description: a.description } : {}),
            ...(a.allocationDate ? { allocationDate: new Date(a.allocationDate) } : {}),
          }));
          const actions = plan({
            clusterId,
            kind: 'FloatingIPClaim',
            claims,
            allocations,
            liveClaimUids: new Set(group.members.map((m) => m.metadata?.uid ?? '')),
            namespaceInScope: () => true,
            now: new Date(kube.clock.now()),
            pendingWindowMs: 600_000,
            outcomesKnown: true,
          });
          const target = { client: vcd.client(), space: { id: 's', name: 'public-ips' }, org: 'acme' };
          await new ClaimExecutor({
            group,
            deps,
            info,
            target,
            firstSeen: new Map([...group.members].map((m) => [m.metadata?.uid ?? '', 0])),
            view,
            admittedNamespaces: new Set(['ns']),
          }).execute(actions);
        },
      },
      opts,
    );
    return def;
  }

  async function reconcile(): Promise<void> {
    const ctx = kube.context(key, { group: () => [key] }) as unknown as Parameters<typeof def.reconcile>[1];
    await def.reconcile(key, ctx);
  }

  const marked = () => vcd.held.filter((h) => parseMarker(h.description)?.clusterId === clusterId);
  const claimOf = (name: string) => kube.get(name) as unknown as Claim;

  const crashPoints: Array<{ name: string; inject(): void; firstRun: 'throws' | 'ok' }> = [
    { name: 'no fault', inject: () => undefined, firstRun: 'ok' },
    { name: 'the allocate answer is lost after VCD made the allocations', inject: () => void (vcd.allocateFault = 'lose'), firstRun: 'throws' },
    { name: 'marking fails after the allocate', inject: () => void (vcd.failMarks = 7), firstRun: 'throws' },
  ];

  for (const point of crashPoints) {
    it(`ends with one marked allocation per claim when ${point.name}`, async function () {
      for (const n of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) add(n);
      point.inject();
      if (point.firstRun === 'throws') await assert.rejects(reconcile());
      else await reconcile();
      // The batch queued behind a failed one was sent all the same, so every claim has its
      // allocation after the first run, and the second run allocates nothing again.
      assert.equal(vcd.allocateCalls, 2);
      await reconcile();
      assert.equal(vcd.held.length, 7, 'no allocation twice');
      assert.equal(marked().length, 7);
      assert.equal(vcd.allocateCalls, 2, 'nothing is allocated again');
      for (const n of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) {
        const c = claimOf(n);
        assert.equal(c.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True', n);
        assert.equal(pendingSince(c), undefined, `${n}: the guard is cleared`);
        assert.ok(
          marked().some((h) => h.id === c.status?.allocationId),
          `${n}: status names its marked allocation`,
        );
      }
    });
  }

  it('reports a claim Ready once VCD allocated, and keeps its guard until the allocation is marked', async function () {
    for (const n of ['c1', 'c2']) add(n);
    vcd.failMarks = 2;
    await assert.rejects(reconcile());
    for (const n of ['c1', 'c2']) {
      const c = claimOf(n);
      assert.equal(c.status?.conditions?.find((x) => x.type === 'Ready')?.status, 'True', n);
      assert.ok(c.status?.allocationId, `${n}: status names the allocation`);
      assert.notEqual(pendingSince(c), undefined, `${n}: the guard stays while the allocation is unmarked`);
    }
    assert.equal(marked().length, 0);
  });

  it('takes back the guards of a batch it does not send because one of its guard writes met a conflict', async function () {
    for (const n of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) add(n);
    kube.conflicts.push('c7');
    await assert.rejects(reconcile(), /conflict|modified/i);
    assert.equal(vcd.allocateCalls, 1, 'the batch with a refused guard is not sent');
    assert.equal(pendingSince(claimOf('c6')), undefined, 'the guard written for c6 is taken back');
    await reconcile();
    assert.equal(vcd.allocateCalls, 2);
    assert.equal(vcd.held.length, 7);
    assert.equal(marked().length, 7);
  });

  it('allocates seven claims in two calls of five and two', async function () {
    for (const n of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']) add(n);
    await reconcile();
    assert.equal(vcd.allocateCalls, 2);
  });

  it('sends a refused address once and holds the claim back, whatever wakes it', async function () {
    add('far', { address: '198.51.100.250' });
    vcd.allocateFault = 'refuse';
    await reconcile();
    await reconcile();
    await reconcile();
    assert.equal(vcd.allocateCalls, 1);
    assert.equal(claimOf('far').status?.conditions?.find((x) => x.type === 'Ready')?.reason, Reasons.AddressUnavailable);
    assert.equal(pendingSince(claimOf('far')), undefined, 'a refused request leaves no guard');
    await kube.clock.advance(30_000);
    await reconcile();
    assert.equal(vcd.allocateCalls, 2, 'tried again once its delay passed');
  });
});
