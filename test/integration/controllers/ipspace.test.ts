// The IPSpace controller against a real kube-apiserver and the VCD simulator: create with
// uplinks and quotas, update by one PUT, delete blocked by allocations, Orphan, adoption through
// spec.id only, invalid specs that write nothing, and a create whose response is lost. Cloud writes
// are counted from the simulator's audit log, not assumed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';
import {
  ClusterVCDConnectionResource,
  crdOf,
  IPSpaceResource,
  kinds,
  NSXConnectionResource,
  VCDConnectionResource,
  type IPSpace,
} from '../../../src/api/index.ts';
import { VcdClient, type IpSpace } from '../../../src/clients/vcd/index.ts';
import { NsxClient } from '../../../src/clients/nsx/index.ts';
import { connectionController, NamespaceResource, SecretResource } from '../../../src/controllers/connections/controller.ts';
import { NsxConnectionPool, VcdConnectionPool } from '../../../src/reconcile/connections/index.ts';
import type { ControllerDeps } from '../../../src/controllers/deps.ts';
import { Directory } from '../../../src/reconcile/index.ts';
import { EventBus, EventKeyRegistry } from '../../../src/reconcile/events/index.ts';
import { CREATE_PENDING_ANNOTATION, IPSPACE_FINALIZER, ipSpaceController } from '../../../src/controllers/ipspace/index.ts';
import { createLogger, isKubeApiError, KubeClient, KubeHttp, Manager, type KubeObject, type ResourceType } from '../../../src/runtime/index.ts';
import { startSimulator, type AuditEntry, type RunningSim } from '../../../src/sim/index.ts';

const events: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface KubeEvent extends KubeObject {
  reason?: string;
  note?: string;
  type?: string;
  regarding?: { name?: string };
}

describe('IPSpace controller against kube-apiserver and the VCD simulator', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let kube: KubeClient;
  let manager: Manager;
  let pool: VcdConnectionPool;
  let ns: string;
  let provider: VcdClient;
  const connName = `provider-${randomBytes(3).toString('hex')}`;

  before(async function () {
    await controlPlane().installCRDs(kinds.map(crdOf));
    sim = await startSimulator({ knobs: { latencyMs: 0, taskDurationMs: 20 } });
    kube = new KubeClient(new KubeHttp(controlPlane().kubeConfig()));
    const opsNs = await freshNamespace('ops');
    ns = await freshNamespace('ips');
    await kube.create(SecretResource, {
      metadata: { name: 'vcd-provider', namespace: opsNs },
      data: { apiToken: Buffer.from(sim.credentials.provider.apiToken).toString('base64') },
    } as KubeObject);
    await kube.create(ClusterVCDConnectionResource, {
      metadata: { name: connName },
      spec: {
        url: sim.vcd.url,
        org: 'System',
        credentialsSecretRef: { name: 'vcd-provider' },
        caBundle: sim.caPem,
        allowedNamespaces: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      },
    } as KubeObject);

    const logger = createLogger({ level: 'silent' });
    manager = new Manager({ kubeConfig: controlPlane().kubeConfig(), logger, registry: new Registry(), gracefulShutdownTimeoutMs: 5_000 });
    const fastClient = {
      taskPoll: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 1.5, jitter: 0 },
      retry: { maxAttempts: 3, backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2, jitter: 0 } },
    };
    pool = new VcdConnectionPool({
      vcdConnections: manager.informer(VCDConnectionResource),
      clusterConnections: manager.informer(ClusterVCDConnectionResource),
      secrets: manager.informer(SecretResource),
      namespaces: manager.informer(NamespaceResource),
      operatorNamespace: opsNs,
      logger,
      connect: (o) => VcdClient.connect(o),
      clientOptions: fastClient,
      failureHoldMs: 200,
    });
    const events = new EventKeyRegistry();
    const deps: ControllerDeps = {
      manager,
      pool,
      nsxPool: new NsxConnectionPool({
        connections: manager.informer(NSXConnectionResource),
        secrets: manager.informer(SecretResource),
        operatorNamespace: opsNs,
        logger,
        connect: (o) => NsxClient.connect(o),
      }),
      clusterId: `cluster-${randomBytes(4).toString('hex')}`,
      namespaceInScope: (n) => n === ns,
      pendingWindowMs: 3_000,
      driftCheckMs: 10 * 60_000,
      claimWorkers: 1,
      directory: new Directory({ clock: manager.clock }),
      events,
      eventBus: new EventBus({ pool, registry: events, metrics: new Registry(), clock: manager.clock, logger, enabled: false }),
    };
    manager.addController(connectionController('ClusterVCDConnection', { ...deps, operatorNamespace: opsNs }));
    manager.addController(ipSpaceController(deps, { retryMs: 300 }));
    await manager.start();
    provider = await VcdClient.connect({
      url: sim.vcd.url,
      org: 'System',
      auth: { apiToken: sim.credentials.provider.apiToken },
      caPem: sim.caPem,
      ...fastClient,
    });
  });

  after(async function () {
    await manager?.stop();
    await pool?.closeAll();
    await provider?.close();
    await kube?.delete(ClusterVCDConnectionResource, connName).catch(() => undefined);
    await sim?.stop();
  });

  // --- helpers ------------------------------------------------------------------------------------

  function ipSpace(name: string, spec: Partial<IPSpace['spec']> = {}): IPSpace {
    return {
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'IPSpace',
      metadata: { name, namespace: ns },
      spec: {
        connectionRef: { kind: 'ClusterVCDConnection', name: connName },
        type: 'Public',
        internalScope: ['192.0.2.0/24'],
        ipRanges: [{ start: '192.0.2.10', end: '192.0.2.100' }],
        ...spec,
      },
    };
  }

  async function get(name: string): Promise<IPSpace | undefined> {
    try {
      return await kube.get<IPSpace>(IPSpaceResource, name, ns);
    } catch (err) {
      if (isKubeApiError(err, 404)) return undefined;
      throw err;
    }
  }

  async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await fn();
      if (last) return last as T;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  const condition = (o: IPSpace | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

  function readyWith(name: string, reason: string, status: 'True' | 'False' = reason === 'Available' ? 'True' : 'False'): Promise<IPSpace> {
    return until(`${name} Ready=${status} ${reason}`, async () => {
      const o = await get(name);
      const c = condition(o, 'Ready');
      return c?.status === status && c.reason === reason && c.observedGeneration === o?.metadata?.generation ? o : undefined;
    });
  }

  /** Writes to IP Space endpoints recorded by the simulator since `seq`. */
  function ipSpaceWrites(seq: number): AuditEntry[] {
    return sim.admin.audit(seq).filter((e) => e.path.startsWith('/cloudapi/1.0.0/ipSpace'));
  }

  const auditSeq = (): number => sim.admin.audit().at(-1)?.seq ?? 0;
  const spaceNamed = (name: string) => sim.admin.state().vcd.ipSpaces.filter((s) => s.name === name);

  async function eventReasons(name: string): Promise<string[]> {
    const { items } = await kube.list<KubeEvent>(events, { namespace: ns });
    return items.filter((e) => e.regarding?.name === name).map((e) => e.reason ?? '');
  }

  // --- tests --------------------------------------------------------------------------------------

  it('creates the IP Space with ranges, prefixes, an uplink and org quotas, and reports it Ready with id and utilization', async function () {
    const seq = auditSeq();
    await kube.create(
      IPSpaceResource,
      ipSpace('web', {
        description: 'addresses for web frontends',
        prefixSequences: [{ startCIDR: '192.0.2.128/28', count: 4 }],
        defaultQuotas: { floatingIPs: 3, prefixes: [{ prefixLength: 28, quota: 1 }] },
        uplinks: [{ name: 'web-uplink', providerGateway: { name: 'pg-public' } }],
        orgQuotas: [{ org: { name: 'acme' }, floatingIPs: 7 }],
      }),
    );
    await readyWith('web', 'Available');
    // The guard is cleared by the write after the one that makes the status Ready with the id.
    const o = await until('web without the create-pending guard', async () => {
      const now = await get('web');
      return now?.metadata?.annotations?.[CREATE_PENDING_ANNOTATION] === undefined ? now : undefined;
    });
    assert.equal(condition(o, 'Ready')?.status, 'True');
    assert.equal(condition(o, 'Synced')?.status, 'True');
    assert.match(o.status?.id ?? '', /^urn:vcloud:ipSpace:/);
    assert.deepEqual(o.metadata?.finalizers, [IPSPACE_FINALIZER]);
    assert.deepEqual(o.status?.utilization?.floatingIPs, { total: '91', allocated: '0', used: '0' });
    assert.equal(o.status?.utilization?.prefixes?.total, '4');

    const [space, ...more] = spaceNamed('web');
    assert.equal(more.length, 0);
    assert.equal(space?.id, o.status?.id);
    assert.deepEqual(space?.ranges, ['192.0.2.10-192.0.2.100']);
    const vcd = await provider.ipSpaces.get(space?.id ?? '');
    assert.equal(vcd.type, 'PUBLIC');
    assert.equal(vcd.ipSpaceRanges?.defaultFloatingIpQuota, 3);
    assert.deepEqual(
      vcd.ipSpacePrefixes?.map((g) => [
        g.ipPrefixSequence.map((s) => `${s.startingPrefixIpAddress}/${s.prefixLength}x${s.totalPrefixCount}`),
        g.defaultQuotaForPrefixLength,
      ]),
      [[['192.0.2.128/28x4'], 1]],
    );
    const lines = (vcd.description ?? '').split('\n');
    assert.equal(lines[0], 'addresses for web frontends');
    assert.match(lines[1] ?? '', new RegExp(`^vcd-operator\\.io cluster=\\S+ IPSpace=${ns}/web uid=${o.metadata?.uid}$`));

    const uplinks = sim.admin.state().vcd.ipSpaceUplinks.filter((u) => u.ipSpace === 'web');
    assert.deepEqual(
      uplinks.map((u) => [u.name, u.externalNetwork]),
      [['web-uplink', 'pg-public']],
    );
    assert.deepEqual(o.status?.uplinks, [{ name: 'web-uplink', id: uplinks[0]?.id }]);
    const acme = sim.admin.state().vcd.orgAssignments.find((a) => a.ipSpace === 'web' && a.org === 'acme');
    assert.equal(acme?.customFloatingIpQuota, 7);
    const globex = sim.admin.state().vcd.orgAssignments.find((a) => a.ipSpace === 'web' && a.org === 'globex');
    assert.equal(globex?.customFloatingIpQuota, undefined, 'orgs not listed keep the defaults');

    const writes = ipSpaceWrites(seq).map((e) => e.route);
    assert.deepEqual(
      writes.filter((w) => w.startsWith('POST /cloudapi/1.0.0/ipSpaces') && !w.includes('orgAssignments')),
      ['POST /cloudapi/1.0.0/ipSpaces'],
    );
    assert.equal(writes.filter((w) => w === 'POST /cloudapi/1.0.0/ipSpaceUplinks').length, 1);
    assert.equal(writes.filter((w) => w.startsWith('PUT /cloudapi/1.0.0/ipSpaces/orgAssignments')).length, 1);
    assert.equal(writes.filter((w) => w === 'PUT /cloudapi/1.0.0/ipSpaces/{id}').length, 0, 'a fresh IP Space needs no update');
    const reasons = await until('events', async () => {
      const r = await eventReasons('web');
      return ['Created', 'UplinkCreated', 'QuotasUpdated'].every((x) => r.includes(x)) ? r : undefined;
    });
    assert.ok(reasons.includes('Created'));

    // At rest: another reconcile (woken by an unrelated annotation) writes nothing anywhere.
    const rv = o.metadata?.resourceVersion;
    const quiet = auditSeq();
    await kube.patch(IPSpaceResource, 'web', ns, { metadata: { annotations: { touched: 'yes' } } });
    await sleep(1500);
    const after = await get('web');
    assert.deepEqual(ipSpaceWrites(quiet), []);
    assert.deepEqual(after?.status, o.status, 'no status write when nothing changed');
    assert.notEqual(after?.metadata?.resourceVersion, rv);
  });

  it('applies a changed range with exactly one PUT of the whole IP Space', async function () {
    await kube.create(IPSpaceResource, ipSpace('grow'));
    const before = await readyWith('grow', 'Available');
    const seq = auditSeq();
    await kube.patch(IPSpaceResource, 'grow', ns, { spec: { ipRanges: [{ start: '192.0.2.10', end: '192.0.2.200' }] } });
    const o = await until('grow updated', async () => {
      const x = await get('grow');
      return x?.status?.observedGeneration === 2 && condition(x, 'Ready')?.status === 'True' ? x : undefined;
    });
    await sleep(500);
    const writes = ipSpaceWrites(seq).map((e) => e.route);
    assert.deepEqual(writes, ['PUT /cloudapi/1.0.0/ipSpaces/{id}']);
    assert.deepEqual(spaceNamed('grow')[0]?.ranges, ['192.0.2.10-192.0.2.200']);
    assert.equal(o.status?.utilization?.floatingIPs?.total, '191');
    assert.equal(o.status?.id, before.status?.id);
    assert.equal(condition(o, 'Ready')?.lastTransitionTime, condition(before, 'Ready')?.lastTransitionTime, 'Ready stayed True throughout');
    assert.ok((await eventReasons('grow')).includes('Updated'));
  });

  it('keeps the finalizer and shows DeleteBlocked while allocations remain, then deletes once they are released', async function () {
    await kube.create(IPSpaceResource, ipSpace('busy', { uplinks: [{ name: 'busy-uplink', providerGateway: { name: 'pg-public' } }] }));
    const o = await readyWith('busy', 'Available');
    const id = o.status?.id ?? '';
    const [alloc] = await provider.forOrg('acme').ipSpaces.allocate(id, { type: 'FLOATING_IP', quantity: 1 });
    assert.ok(alloc);

    await kube.delete(IPSpaceResource, 'busy', ns);
    const blocked = await readyWith('busy', 'DeleteBlocked');
    assert.match(condition(blocked, 'Ready')?.message ?? '', /still has 1 allocation/);
    assert.match(condition(blocked, 'Ready')?.message ?? '', /deletionPolicy: Orphan/);
    assert.deepEqual(blocked.metadata?.finalizers, [IPSPACE_FINALIZER]);
    assert.equal(spaceNamed('busy').length, 1);
    assert.ok((await eventReasons('busy')).includes('DeleteBlocked'));

    await provider.forOrg('acme').ipSpaces.allocations.delete(id, alloc.id);
    await until('busy deleted', async () => (await get('busy')) === undefined);
    assert.equal(spaceNamed('busy').length, 0);
  });

  it('leaves the IP Space in VCD when deletionPolicy is Orphan', async function () {
    await kube.create(IPSpaceResource, ipSpace('keep', { deletionPolicy: 'Orphan' }));
    const o = await readyWith('keep', 'Available');
    const seq = auditSeq();
    await kube.delete(IPSpaceResource, 'keep', ns);
    await until('keep gone', async () => (await get('keep')) === undefined);
    assert.deepEqual(ipSpaceWrites(seq), []);
    assert.deepEqual(
      spaceNamed('keep').map((s) => s.id),
      [o.status?.id],
    );
  });

  it('adopts an existing IP Space only through spec.id, never by its name', async function () {
    const legacy: IpSpace = {
      name: 'legacy',
      type: 'PUBLIC',
      description: 'made by hand',
      ipSpaceInternalScope: ['198.18.0.0/24'],
      ipSpaceRanges: { ipRanges: [{ startIpAddress: '198.18.0.10', endIpAddress: '198.18.0.20' }], defaultFloatingIpQuota: 1 },
    };
    const made = await provider.ipSpaces.create(legacy);
    const spec = { name: 'legacy', internalScope: ['198.18.0.0/24'], ipRanges: [{ start: '198.18.0.10', end: '198.18.0.20' }] };

    // Same name, no spec.id: refused, and nothing written.
    let seq = auditSeq();
    await kube.create(IPSpaceResource, ipSpace('legacy-by-name', spec));
    const refused = await readyWith('legacy-by-name', 'AlreadyExists');
    assert.match(condition(refused, 'Ready')?.message ?? '', new RegExp(`set spec\\.id: ${made.id}`));
    assert.deepEqual(ipSpaceWrites(seq), []);
    assert.equal((await provider.ipSpaces.get(made.id ?? '')).description, 'made by hand');

    // With spec.id: adopted, marked as ours, no second IP Space.
    seq = auditSeq();
    await kube.create(IPSpaceResource, ipSpace('legacy', { ...spec, id: made.id }));
    const adopted = await readyWith('legacy', 'Available');
    assert.equal(adopted.status?.id, made.id);
    assert.equal(spaceNamed('legacy').length, 1);
    const writes = ipSpaceWrites(seq).map((e) => e.route);
    assert.deepEqual(writes, ['PUT /cloudapi/1.0.0/ipSpaces/{id}'], 'only the marker is written into the description');
    const desc = (await provider.ipSpaces.get(made.id ?? '')).description ?? '';
    assert.match(desc, new RegExp(`^made by hand\\nvcd-operator\\.io cluster=\\S+ IPSpace=${ns}/legacy uid=${adopted.metadata?.uid}$`));

    // An id VCD does not know is reported, not created.
    seq = auditSeq();
    await kube.create(IPSpaceResource, ipSpace('ghost', { id: 'urn:vcloud:ipSpace:00000000-0000-0000-0000-00000000beef' }));
    const ghost = await readyWith('ghost', 'IPSpaceNotFound');
    assert.match(condition(ghost, 'Ready')?.message ?? '', /spec\.id/);
    assert.deepEqual(ipSpaceWrites(seq), []);
  });

  it('connects uplinks by gateway id, drops an uplink removed from the spec, and says what it waits for', async function () {
    const pg = sim.admin.state().vcd.externalNetworks.find((n) => n.name === 'pg-public');
    assert.ok(pg);
    await kube.create(
      IPSpaceResource,
      ipSpace('links', {
        uplinks: [{ name: 'links-up', providerGateway: { id: pg.id } }],
        orgQuotas: [{ org: { name: 'initech' }, floatingIPs: 2 }],
      }),
    );
    const waiting = await until('links waiting on the org assignment', async () => {
      const o = await get('links');
      return condition(o, 'Synced')?.reason === 'OrgAssignmentPending' ? o : undefined;
    });
    assert.equal(condition(waiting, 'Ready')?.status, 'True', 'the IP Space is usable while one org waits');
    assert.match(condition(waiting, 'Synced')?.message ?? '', /initech.*edge gateway/);
    const uplinkId = waiting.status?.uplinks?.[0]?.id;
    assert.ok(sim.admin.state().vcd.ipSpaceUplinks.some((u) => u.id === uplinkId && u.externalNetwork === 'pg-public'));

    const seq = auditSeq();
    await kube.patch(IPSpaceResource, 'links', ns, { spec: { uplinks: null, orgQuotas: null } });
    const o = await until('links without uplinks', async () => {
      const x = await get('links');
      return x?.status?.observedGeneration === 2 && condition(x, 'Synced')?.status === 'True' ? x : undefined;
    });
    assert.equal(o.status?.uplinks, undefined);
    assert.equal(
      sim.admin.state().vcd.ipSpaceUplinks.some((u) => u.id === uplinkId),
      false,
    );
    assert.deepEqual(
      ipSpaceWrites(seq).map((e) => e.route),
      ['DELETE /cloudapi/1.0.0/ipSpaceUplinks/{id}'],
    );

    // A gateway named nowhere in VCD: Ready=False with what to do, nothing written.
    const seq2 = auditSeq();
    await kube.patch(IPSpaceResource, 'links', ns, { spec: { uplinks: [{ name: 'nowhere', providerGateway: { name: 'pg-nowhere' } }] } });
    const lost = await readyWith('links', 'ProviderGatewayNotFound');
    assert.match(condition(lost, 'Ready')?.message ?? '', /pg-nowhere.*providerGateway\.id/);
    assert.deepEqual(ipSpaceWrites(seq2), []);
  });

  it('reports a spec that only the operator can judge invalid as InvalidSpec and writes nothing to VCD', async function () {
    const seq = auditSeq();
    await kube.create(
      IPSpaceResource,
      ipSpace('overlap', {
        ipRanges: [
          { start: '192.0.2.10', end: '192.0.2.50' },
          { start: '192.0.2.40', end: '192.0.2.60' },
        ],
      }),
    );
    const o = await readyWith('overlap', 'InvalidSpec');
    assert.match(condition(o, 'Ready')?.message ?? '', /must not overlap/);
    await sleep(500);
    assert.deepEqual(
      sim.admin.audit(seq).filter((e) => e.path.startsWith('/cloudapi/')),
      [],
      'no write of any kind reached VCD',
    );
    assert.equal(spaceNamed('overlap').length, 0);
    assert.ok((await eventReasons('overlap')).includes('InvalidSpec'));
  });

  it('deletes at once an IPSpace whose connection never existed: nothing was created, so nothing holds it', async function () {
    await kube.create(IPSpaceResource, {
      ...ipSpace('orphan-conn'),
      spec: { ...ipSpace('orphan-conn').spec, connectionRef: { kind: 'ClusterVCDConnection', name: 'no-such-connection' } },
    });
    const stuck = await readyWith('orphan-conn', 'ConnectionNotFound');
    assert.ok(stuck.metadata?.finalizers?.length, 'it took the finalizer before it knew the connection was missing');
    await kube.delete(IPSpaceResource, 'orphan-conn', ns);
    await until('the IPSpace to be gone', async () => (await get('orphan-conn')) === undefined, 15_000);
  });

  it('ends with exactly one IP Space when the create response is lost after VCD committed it', async function () {
    sim.admin.addFault({ route: 'POST /cloudapi/1.0.0/ipSpaces', kind: 'drop-after-commit', times: 1 });
    const seq = auditSeq();
    await kube.create(IPSpaceResource, ipSpace('lost'));
    const o = await readyWith('lost', 'Available');
    const spaces = spaceNamed('lost');
    assert.equal(spaces.length, 1);
    assert.equal(o.status?.id, spaces[0]?.id);
    assert.equal(ipSpaceWrites(seq).filter((e) => e.route === 'POST /cloudapi/1.0.0/ipSpaces').length, 1, 'the POST was sent once');
    assert.ok((await eventReasons('lost')).includes('Found'));
  });
});
