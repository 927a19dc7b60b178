// EdgeGatewayUplink against the apiserver and the simulator: a segment-backed network attached to
// an edge and detached again, every other uplink of the edge sent back exactly as VCD returned it;
// a VLAN segment already on another edge refused before any write.
import assert from 'node:assert/strict';
import { EdgeGatewayUplinkResource, type EdgeGatewayUplink } from '../../../src/api/index.ts';
import { VcdClient, type EdgeGateway, type EdgeGatewayUplink as VcdUplink } from '../../../src/clients/vcd/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { createProviderConnection, isReady, readyOf, startTestOperator, userClient, waitFor, type TestOperator } from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

describe('EdgeGatewayUplink', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let provider: VcdClient;
  let opNs: string;
  let conn: string;

  const byId = (e: EdgeGateway) => new Map((e.edgeGatewayUplinks ?? []).map((u) => [u.uplinkId ?? '', u]));
  const edgePuts = (since: number) => sim.admin.audit(since).filter((e) => e.service === 'vcd' && e.method === 'PUT' && e.route.endsWith('/edgeGateways/{id}'));

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 20 } });
    kube = userClient();
    opNs = await freshNamespace('op');
    op = await startTestOperator({ operatorNamespace: opNs, taskTimeoutMs: 5000 });
    conn = await createProviderConnection(kube, sim, opNs);
    provider = await VcdClient.connect({ url: sim.vcd.url, org: 'System', auth: { apiToken: sim.credentials.provider.apiToken }, caPem: sim.caPem });
  });
  after(async function () {
    await op?.stop();
    await provider?.close();
    await sim?.stop();
  });

  const uplink = (name: string, edge: string, extra = 0): KubeObject =>
    ({
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'EdgeGatewayUplink',
      metadata: { name, namespace: opNs },
      spec: {
        connectionRef: { kind: 'ClusterVCDConnection', name: conn },
        edgeGateway: { name: edge },
        externalNetwork: { name: 'seg-colo' },
        subnet: { gateway: '172.16.60.1', prefixLength: 24, primaryIP: '172.16.60.10', extraAddresses: extra },
      },
    }) as KubeObject;

  it('attaches, resizes and detaches a segment, leaving every other uplink as VCD returned it', async function () {
    const edgeId = (await provider.edgeGateways.findByName('acme-edge'))?.id ?? '';
    const before = await provider.edgeGateways.get(edgeId);
    const start = sim.admin.audit().at(-1)?.seq ?? 0;

    await kube.create(EdgeGatewayUplinkResource, uplink('colo', 'acme-edge'));
    const done = await waitFor<EdgeGatewayUplink>(kube, EdgeGatewayUplinkResource, opNs, 'colo', isReady);
    assert.equal(done?.status?.primaryIP, '172.16.60.10');
    const attached = await provider.edgeGateways.get(edgeId);
    const segId = done?.status?.id ?? '';
    assert.equal(byId(attached).size, byId(before).size + 1);
    for (const [id, u] of byId(before)) assert.deepEqual(byId(attached).get(id), u, `uplink ${u.uplinkName ?? id} unchanged`);
    // What was sent: the edge as read, with one uplink more; nothing else touched.
    const [put] = edgePuts(start);
    const sent = put?.body as EdgeGateway;
    const { edgeGatewayUplinks: sentUplinks, ...sentRest } = sent;
    const { edgeGatewayUplinks: _u, ...readRest } = before;
    assert.deepEqual(sentRest, readRest, 'every other field of the edge went back as read');
    assert.deepEqual(
      sentUplinks.filter((u) => u.uplinkId !== segId),
      before.edgeGatewayUplinks,
      'every other uplink went back as read, in the order read',
    );

    // More addresses: the entry is rewritten in place.
    await kube.patch(EdgeGatewayUplinkResource, 'colo', opNs, { spec: { subnet: { extraAddresses: 3 } } });
    await waitFor<EdgeGatewayUplink>(kube, EdgeGatewayUplinkResource, opNs, 'colo', (o) => isReady(o) && o?.status?.observedGeneration === 2);
    const resized = byId(await provider.edgeGateways.get(edgeId)).get(segId) as VcdUplink;
    assert.deepEqual((resized.subnets?.values?.[0] as { ipRanges?: unknown }).ipRanges, {
      values: [{ startAddress: '172.16.60.10', endAddress: '172.16.60.13' }],
    });

    await kube.delete(EdgeGatewayUplinkResource, 'colo', opNs);
    await waitFor(kube, EdgeGatewayUplinkResource, opNs, 'colo', (o) => o === undefined);
    const after = await provider.edgeGateways.get(edgeId);
    assert.deepEqual(byId(after), byId(before), 'detached: the edge has exactly its earlier uplinks');
  });

  it('refuses a VLAN segment already connected to another edge, before writing', async function () {
    await kube.create(EdgeGatewayUplinkResource, uplink('colo-acme', 'acme-edge'));
    await waitFor(kube, EdgeGatewayUplinkResource, opNs, 'colo-acme', isReady);
    const start = sim.admin.audit().at(-1)?.seq ?? 0;
    await kube.create(EdgeGatewayUplinkResource, uplink('colo-globex', 'globex-edge'));
    const refused = await waitFor<EdgeGatewayUplink>(kube, EdgeGatewayUplinkResource, opNs, 'colo-globex', (o) => readyOf(o)?.reason === 'SegmentInUse');
    assert.match(readyOf(refused)?.message ?? '', /already connected to edge gateway acme-edge; VCD connects a VLAN segment to one edge gateway only/);
    assert.equal(edgePuts(start).length, 0, 'nothing was written');
    for (const n of ['colo-globex', 'colo-acme']) await kube.delete(EdgeGatewayUplinkResource, n, opNs);
    for (const n of ['colo-globex', 'colo-acme']) await waitFor(kube, EdgeGatewayUplinkResource, opNs, n, (o) => o === undefined);
  });
});
