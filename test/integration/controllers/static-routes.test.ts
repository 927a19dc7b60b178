// EdgeStaticRoute against the apiserver and the simulator: a default route through a segment is
// written as two /1 routes, an edit updates them in place (same ids, PUT not POST), a foreign route
// on the same edge is never touched, and deleting the object removes only its own routes.
import assert from 'node:assert/strict';
import { EdgeStaticRouteResource, type EdgeStaticRoute } from '../../../src/api/index.ts';
import { VcdClient } from '../../../src/clients/vcd/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { createTenantConnection, isReady, readyOf, resources, startTestOperator, userClient, waitFor, type TestOperator } from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

describe('EdgeStaticRoute', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let tenant: VcdClient;
  let ns: string;
  let edgeId: string;

  const routesOnEdge = () => sim.admin.state().vcd.edges.find((e) => e.id === edgeId)?.staticRoutes ?? [];
  const writes = (method: string, since: number) =>
    sim.admin.audit(since).filter((e) => e.service === 'vcd' && e.method === method && e.path.includes('/routing/staticRoutes')).length;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 20 } });
    kube = userClient();
    const opNs = await freshNamespace('op');
    ns = await freshNamespace('routes');
    op = await startTestOperator({ operatorNamespace: opNs, taskTimeoutMs: 5000 });
    await createTenantConnection(kube, sim, ns, { org: 'acme' });
    await waitFor(kube, resources.conn, ns, 'acme-conn', isReady);
    const acme = sim.credentials.tenants.find((t) => t.org === 'acme');
    tenant = await VcdClient.connect({ url: sim.vcd.url, org: 'acme', auth: { apiToken: acme?.apiToken ?? '' }, caPem: sim.caPem });
    edgeId = (await tenant.edgeGateways.findByName('acme-edge'))?.id ?? '';
    assert.ok(edgeId, 'the fixture has acme-edge');
  });
  after(async function () {
    await op?.stop();
    await tenant?.close();
    await sim?.stop();
  });

  const route = (name: string, spec: Partial<EdgeStaticRoute['spec']>): KubeObject =>
    ({
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'EdgeStaticRoute',
      metadata: { name, namespace: ns },
      spec: { connectionRef: { kind: 'VCDConnection', name: 'acme-conn' }, edgeGateway: { name: 'acme-edge' }, ...spec },
    }) as KubeObject;

  it('writes a default route through a segment as two /1 routes, updates them in place, and keeps a foreign route', async function () {
    const foreignId = await tenant.staticRoutes.create(edgeId, {
      name: 'admin-made',
      description: 'made by hand',
      networkCidr: '192.0.2.0/24',
      nextHops: [{ ipAddress: '10.10.1.254', adminDistance: 1 }],
    });
    const foreignBefore = routesOnEdge().find((r) => r.id === foreignId);
    assert.ok(foreignBefore);

    const start = sim.admin.audit().at(-1)?.seq ?? 0;
    await kube.create(
      EdgeStaticRouteResource,
      route('default-via-transit', {
        destination: '0.0.0.0/0',
        nextHops: [{ ipAddress: '172.16.50.254', scope: { externalNetwork: 'seg-transit' } }],
      }),
    );
    const done = await waitFor<EdgeStaticRoute>(kube, EdgeStaticRouteResource, ns, 'default-via-transit', isReady);
    assert.deepEqual(done?.status?.writtenAs, ['0.0.0.0/1', '128.0.0.0/1']);
    const ids = done?.status?.routeIds ?? [];
    assert.equal(ids.length, 2);
    const ours = routesOnEdge().filter((r) => ids.includes(r.id));
    assert.deepEqual(ours.map((r) => r.networkCidr).sort(), ['0.0.0.0/1', '128.0.0.0/1']);
    assert.equal(writes('POST', start), 2, 'two creates, nothing else');
    assert.match(readyOf(done)?.message ?? '', /written as 0\.0\.0\.0\/1 and 128\.0\.0\.0\/1/);
    const events = await kube.list<KubeObject & { reason?: string; message?: string }>(
      { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
      { namespace: ns },
    );
    assert.ok(
      events.items.some((e) => e.reason === 'DefaultRouteSplit' && /Tier-1 keeps its own default route/.test(e.message ?? '')),
      'an Event explains the split',
    );

    // A second edit: same routes, updated in place.
    const beforeEdit = sim.admin.audit().at(-1)?.seq ?? 0;
    await kube.patch(EdgeStaticRouteResource, 'default-via-transit', ns, {
      spec: { nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 5, scope: { externalNetwork: 'seg-transit' } }] },
    });
    const edited = await waitFor<EdgeStaticRoute>(
      kube,
      EdgeStaticRouteResource,
      ns,
      'default-via-transit',
      (o) => isReady(o) && readyOf(o) !== undefined && o?.status?.observedGeneration === 2,
    );
    assert.deepEqual(edited?.status?.routeIds, ids, 'the same route ids');
    await waitFor(kube, EdgeStaticRouteResource, ns, 'default-via-transit', () =>
      routesOnEdge()
        .filter((r) => ids.includes(r.id))
        .every((r) => r.version === 1),
    );
    assert.equal(writes('POST', beforeEdit), 0, 'no route was recreated');
    assert.equal(writes('DELETE', beforeEdit), 0, 'no route was deleted');
    assert.equal(writes('PUT', beforeEdit), 2, 'both halves updated in place');
    const hops = (await tenant.staticRoutes.get(edgeId, ids[0] ?? '')).nextHops;
    assert.equal(hops[0]?.adminDistance, 5);

    // Delete: ours go, the foreign route stays exactly as it was.
    await kube.delete(EdgeStaticRouteResource, 'default-via-transit', ns);
    await waitFor(kube, EdgeStaticRouteResource, ns, 'default-via-transit', (o) => o === undefined);
    assert.deepEqual(
      routesOnEdge().map((r) => r.id),
      [foreignId],
    );
    assert.deepEqual(routesOnEdge()[0], foreignBefore, 'the foreign route is unchanged');
  });

  it('writes an ordinary route once, and refuses a scope that is not on the edge', async function () {
    await kube.create(
      EdgeStaticRouteResource,
      route('to-dc', { destination: '10.99.0.0/16', nextHops: [{ ipAddress: '10.10.1.254', scope: { network: 'acme-web' } }] }),
    );
    const done = await waitFor<EdgeStaticRoute>(kube, EdgeStaticRouteResource, ns, 'to-dc', isReady);
    assert.deepEqual(done?.status?.writtenAs, ['10.99.0.0/16']);
    await kube.create(
      EdgeStaticRouteResource,
      route('bad-scope', { destination: '10.98.0.0/16', nextHops: [{ ipAddress: '10.10.1.254', scope: { network: 'globex-web' } }] }),
    );
    const bad = await waitFor<EdgeStaticRoute>(kube, EdgeStaticRouteResource, ns, 'bad-scope', (o) => readyOf(o)?.reason === 'NetworkNotFound');
    assert.match(readyOf(bad)?.message ?? '', /no org VDC network globex-web is connected to edge gateway acme-edge/);
    for (const n of ['to-dc', 'bad-scope']) await kube.delete(EdgeStaticRouteResource, n, ns);
    for (const n of ['to-dc', 'bad-scope']) await waitFor(kube, EdgeStaticRouteResource, ns, n, (o) => o === undefined);
  });
});
