// IPSpace.spec.tier0Advertisement against the apiserver and the simulator's NSX: two IP Spaces on
// one Tier-0 share a route map and a redistribution rule, each with its own prefix list; VCD's own
// redistribution rule and an admin's concurrent write (which costs us a 412) are kept; removing
// the field or the IP Space removes only what the operator added.
import assert from 'node:assert/strict';
import { IPSpaceResource, type IPSpace } from '../../../src/api/index.ts';
import { NsxClient, type LocaleServices, type PrefixList, type RouteMap } from '../../../src/clients/nsx/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createNsxConnection,
  createProviderConnection,
  isReady,
  resources,
  startTestOperator,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

const T0 = '/infra/tier-0s/pg-public-t0';
const LS = `${T0}/locale-services/default`;
const VCD_RULE = { name: 'vcd-tier1-routes', route_redistribution_types: ['TIER0_STATIC', 'TIER1_CONNECTED'], destinations: ['BGP' as const] };
const ADMIN_RULE = { name: 'admin-loopbacks', route_redistribution_types: ['TIER0_LOOPBACK_INTERFACE'] };

describe('Tier-0 advertisement of IP Spaces', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let nsx: NsxClient;
  let admin: NsxClient;
  let opNs: string;
  let interfered = 0;

  const advertised = (o: IPSpace | undefined) => o?.status?.tier0Advertisement?.conditions?.find((c) => c.type === 'Advertised')?.status === 'True';

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 20 } });
    kube = userClient();
    opNs = await freshNamespace('op');
    const connect = { url: sim.nsx.url, username: sim.nsx.username, password: sim.nsx.password, caPem: sim.caPem };
    nsx = await NsxClient.connect(connect);
    admin = await NsxClient.connect(connect);
    // VCD's own rule on the provider gateway's Tier-0, before the operator arrives.
    await nsx.reconcileRedistribution('pg-public-t0', 'default', { desired: [VCD_RULE], owns: (r) => r.name === VCD_RULE.name });
    op = await startTestOperator({
      operatorNamespace: opNs,
      taskTimeoutMs: 5000,
      // A concurrent NSX writer: just before the operator's first write of the locale service, an
      // admin adds a rule there, so the operator's write quotes a stale _revision and gets 412.
      nsxConnect: async (o) => {
        const client = await NsxClient.connect(o);
        const put = client.put.bind(client);
        client.put = async (path, body, operation) => {
          if (path.endsWith('/locale-services/default') && interfered === 0) {
            interfered++;
            await admin.reconcileRedistribution('pg-public-t0', 'default', { desired: [ADMIN_RULE], owns: (r) => r.name === ADMIN_RULE.name });
          }
          return put(path, body, operation);
        };
        return client;
      },
    });
  });
  after(async function () {
    await op?.stop();
    await nsx?.close();
    await admin?.close();
    await sim?.stop();
  });

  it('advertises two IP Spaces through one route map and rule, survives a 412, and removes only its own objects', async function () {
    const provider = await createProviderConnection(kube, sim, opNs);
    const nsxConn = await createNsxConnection(kube, sim, opNs);
    await waitFor(kube, resources.nsx, undefined, nsxConn, isReady);
    const space = (name: string, third: number): KubeObject =>
      ({
        apiVersion: 'vcd-operator.io/v1alpha1',
        kind: 'IPSpace',
        metadata: { name, namespace: opNs },
        spec: {
          connectionRef: { kind: 'ClusterVCDConnection', name: provider },
          type: 'Public',
          internalScope: [`100.64.${third}.0/24`],
          ipRanges: [{ start: `100.64.${third}.10`, end: `100.64.${third}.20` }],
          prefixSequences: [{ startCIDR: `100.64.${third}.128/28`, count: 4 }],
          tier0Advertisement: { nsxConnectionRef: { name: nsxConn }, providerGateway: { name: 'pg-public' } },
        },
      }) as KubeObject;
    await kube.create(IPSpaceResource, space('adv-a', 10));
    await kube.create(IPSpaceResource, space('adv-b', 20));
    const a = await waitFor<IPSpace>(kube, IPSpaceResource, opNs, 'adv-a', advertised);
    const b = await waitFor<IPSpace>(kube, IPSpaceResource, opNs, 'adv-b', advertised);
    const listA = a?.status?.tier0Advertisement?.prefixListPath ?? '';
    const listB = b?.status?.tier0Advertisement?.prefixListPath ?? '';
    assert.deepEqual((await nsx.get<PrefixList>(listA)).prefixes, [{ network: '100.64.10.0/24', action: 'PERMIT', ge: 28, le: 32 }]);
    assert.deepEqual((await nsx.get<PrefixList>(listB)).prefixes, [{ network: '100.64.20.0/24', action: 'PERMIT', ge: 28, le: 32 }]);

    const ls = await nsx.get<LocaleServices>(LS);
    const rules = ls.route_redistribution_config?.redistribution_rules ?? [];
    assert.deepEqual(
      rules.find((r) => r.name === VCD_RULE.name),
      VCD_RULE,
      "VCD's rule unchanged",
    );
    assert.deepEqual(
      rules.find((r) => r.name === ADMIN_RULE.name),
      ADMIN_RULE,
      "the concurrent admin write survived the operator's retry",
    );
    const ours = rules.find((r) => r.name?.startsWith('vcd-operator-ip-spaces-'));
    assert.ok(ours?.route_map_path, 'our rule points at our route map');
    assert.equal(rules.length, 3);
    assert.equal(interfered, 1);
    assert.ok(
      sim.admin.audit().some((e) => e.service === 'nsx' && e.method === 'PUT' && e.path.endsWith(LS) && e.status === 412),
      'the race cost a 412',
    );
    const map = await nsx.get<RouteMap>(ours.route_map_path);
    assert.deepEqual(map.entries.map((e) => e.prefix_list_matches).sort(), [[listA], [listB]].sort());

    // The IP Space's own conditions are the IPSpace controller's; ours live apart and never clobber them.
    await waitFor(kube, IPSpaceResource, opNs, 'adv-b', (o) => isReady(o) && advertised(o as IPSpace));
    const before = sim.admin.audit().at(-1)?.seq ?? 0;
    await kube.patch(IPSpaceResource, 'adv-a', opNs, { spec: { tier0Advertisement: null } });
    await waitFor<IPSpace>(
      kube,
      IPSpaceResource,
      opNs,
      'adv-a',
      (o) => o?.status?.tier0Advertisement === undefined && !(o?.metadata?.finalizers ?? []).includes('vcd-operator.io/tier0-advertisement'),
    );
    assert.equal(await nsx.find(listA), undefined, "a's prefix list is gone");
    assert.deepEqual(
      (await nsx.get<RouteMap>(ours.route_map_path)).entries.map((e) => e.prefix_list_matches),
      [[listB]],
      'b is still advertised',
    );
    const after = (await nsx.get<LocaleServices>(LS)).route_redistribution_config?.redistribution_rules ?? [];
    assert.deepEqual(
      after.find((r) => r.name === VCD_RULE.name),
      VCD_RULE,
    );
    assert.deepEqual(
      after.find((r) => r.name === ADMIN_RULE.name),
      ADMIN_RULE,
    );
    assert.ok(
      after.some((r) => r.name === ours.name),
      'our rule stays while b is advertised',
    );
    assert.ok(
      sim.admin.audit(before).every((e) => !e.path.includes(listB.split('/').pop() ?? '?')),
      "b's prefix list was not written again",
    );

    await kube.delete(IPSpaceResource, 'adv-b', opNs);
    await waitFor(kube, IPSpaceResource, opNs, 'adv-b', (o) => o === undefined);
    assert.equal(await nsx.find(listB), undefined);
    assert.equal(await nsx.find(ours.route_map_path), undefined, 'the route map went with the last IP Space');
    const last = (await nsx.get<LocaleServices>(LS)).route_redistribution_config?.redistribution_rules ?? [];
    assert.deepEqual(last, [VCD_RULE, ADMIN_RULE], 'only the rules of others are left, unchanged');
    await kube.delete(IPSpaceResource, 'adv-a', opNs);
  });

  it("advertises from a VRF through the VRF's own locale service, leaving its parent Tier-0 alone", async function () {
    const VRF = '/infra/tier-0s/tenant-vrf';
    await nsx.put(VRF, { id: 'tenant-vrf', display_name: 'Tenant VRF', resource_type: 'Tier0', vrf_config: { tier0_path: T0 } });
    await nsx.put(`${VRF}/locale-services/vrf-ls`, { id: 'vrf-ls', resource_type: 'LocaleServices' });
    const parentBefore = await nsx.get<LocaleServices>(LS);
    const nsxConn = await createNsxConnection(kube, sim, opNs);
    const provider = await createProviderConnection(kube, sim, opNs);
    await kube.create(IPSpaceResource, {
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'IPSpace',
      metadata: { name: 'adv-vrf', namespace: opNs },
      spec: {
        connectionRef: { kind: 'ClusterVCDConnection', name: provider },
        type: 'Public',
        internalScope: ['100.64.30.0/24'],
        ipRanges: [{ start: '100.64.30.10', end: '100.64.30.20' }],
        tier0Advertisement: { nsxConnectionRef: { name: nsxConn }, tier0: 'Tenant VRF' },
      },
    } as KubeObject);
    const done = await waitFor<IPSpace>(kube, IPSpaceResource, opNs, 'adv-vrf', advertised);
    assert.equal(done?.status?.tier0Advertisement?.tier0Path, VRF, 'found by display name');
    assert.match(done?.status?.tier0Advertisement?.conditions?.[0]?.message ?? '', /from VRF Tenant VRF/);
    const rules = (await nsx.get<LocaleServices>(`${VRF}/locale-services/vrf-ls`)).route_redistribution_config?.redistribution_rules ?? [];
    assert.equal(rules.length, 1);
    assert.ok(rules[0]?.route_map_path?.startsWith(`${VRF}/route-maps/`), "the rule names the VRF's own route map");
    assert.deepEqual(await nsx.get<LocaleServices>(LS), parentBefore, 'the parent Tier-0 locale service is untouched');
    await kube.delete(IPSpaceResource, 'adv-vrf', opNs);
    await waitFor(kube, IPSpaceResource, opNs, 'adv-vrf', (o) => o === undefined);
    assert.deepEqual((await nsx.get<LocaleServices>(`${VRF}/locale-services/vrf-ls`)).route_redistribution_config?.redistribution_rules ?? [], []);
  });
});
