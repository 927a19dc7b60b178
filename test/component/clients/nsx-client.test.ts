import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  NsxClient,
  NsxAuthError,
  TlsVerificationError,
  NsxNotFoundError,
  type NsxConnectOptions,
  type PrefixEntry,
  type RedistributionRule,
} from '../../../src/clients/nsx/index.ts';
import { fastRetry } from './helpers.ts';

const T0S = 'GET /policy/api/v1/infra/tier-0s';
const PREFIX_PUT = 'PUT /policy/api/v1/infra/tier-0s/{t0}/prefix-lists/{id}';

describe('NSX client against the simulator', function () {
  this.timeout(30_000);
  let sim: RunningSim;
  const clients: NsxClient[] = [];
  let t0: string;

  const opts = (over: Partial<NsxConnectOptions> = {}): NsxConnectOptions => ({
    url: sim.nsx.url,
    username: sim.nsx.username,
    password: sim.nsx.password,
    caPem: sim.caPem,
    retry: fastRetry,
    ...over,
  });
  async function connect(over: Partial<NsxConnectOptions> = {}): Promise<NsxClient> {
    const c = await NsxClient.connect(opts(over));
    clients.push(c);
    return c;
  }
  const calls = (route: string): number => sim.admin.callCount(route, 'nsx');

  before(async () => {
    sim = await startSimulator({ knobs: { latencyMs: 0, taskDurationMs: 20 } });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(async () => {
    sim.admin.reset();
    sim.admin.setKnobs({ latencyMs: 0 });
    const c = await connect({ authMode: 'basic' });
    const tier0s = await c.list<{ id?: string }>('/infra/tier-0s');
    assert.ok(tier0s[0]?.id, 'the fixture backs pg-public with a tier-0');
    t0 = tier0s[0].id;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('uses one session with XSRF for all calls and destroys it on close', async () => {
    const c = await NsxClient.connect(opts());
    await Promise.all([c.list('/infra/tier-0s'), c.list('/infra/tier-1s'), c.list('/infra/tier-0s')]);
    assert.equal(calls('POST /api/session/create'), 1);
    assert.equal(sim.admin.state().nsx.sessions, 1);
    await c.close();
    assert.equal(sim.admin.state().nsx.sessions, 0);
  });

  it('rebuilds the session once when NSX rejects it, and refuses bad credentials', async () => {
    const c = await connect();
    sim.admin.addFault({ route: T0S, service: 'nsx', kind: 'status', status: 403, times: 1 });
    assert.ok((await c.list('/infra/tier-0s')).length >= 1);
    assert.equal(calls('POST /api/session/create'), 2);
    await assert.rejects(NsxClient.connect(opts({ password: 'wrong-password' })), NsxAuthError);
    await assert.rejects(NsxClient.connect(opts({ authMode: 'basic', password: 'wrong-password' })), NsxAuthError);
  });

  it('retries 503 and 429 on reads and writes', async () => {
    const c = await connect();
    const before = calls(T0S);
    sim.admin.addFault({ route: T0S, service: 'nsx', kind: 'status', status: 503, times: 2 });
    await c.list('/infra/tier-0s');
    assert.equal(calls(T0S) - before, 3);
    sim.admin.addFault({ route: PREFIX_PUT, service: 'nsx', kind: 'status', status: 429, times: 1 });
    const r = await c.reconcilePrefixList(t0, 'ours', { desired: [{ network: '203.0.113.0/24', action: 'PERMIT' }], owns: () => true });
    assert.equal(r.changed, true);
    assert.equal(calls(PREFIX_PUT), 2);
  });

  it('keeps entries owned by others when two writers reconcile one prefix list at once (412 re-read)', async () => {
    const admin = await connect();
    await admin.put(`/infra/tier-0s/${t0}/prefix-lists/shared`, {
      id: 'shared',
      prefixes: [
        { network: '10.0.0.0/8', action: 'PERMIT' },
        { network: 'ANY', action: 'DENY' },
      ],
    });
    const a = await connect();
    const b = await connect();
    sim.admin.setKnobs({ latencyMs: 15 });
    const mine =
      (net: string) =>
      (e: PrefixEntry): boolean =>
        e.network === net;
    await Promise.all([
      a.reconcilePrefixList(t0, 'shared', { desired: [{ network: '203.0.113.0/24', action: 'PERMIT', le: 32 }], owns: mine('203.0.113.0/24') }),
      b.reconcilePrefixList(t0, 'shared', { desired: [{ network: '198.51.100.0/24', action: 'PERMIT', le: 28 }], owns: mine('198.51.100.0/24') }),
    ]);
    const list = await admin.get<{ prefixes: PrefixEntry[] }>(`/infra/tier-0s/${t0}/prefix-lists/shared`);
    assert.deepEqual(list.prefixes.map((p) => p.network).sort(), ['10.0.0.0/8', '198.51.100.0/24', '203.0.113.0/24', 'ANY']);
    assert.equal(list.prefixes.at(-1)?.network, 'ANY', 'the catch-all stays last');
    const statuses = sim.admin
      .audit()
      .filter((e) => e.route === PREFIX_PUT)
      .map((e) => e.status);
    assert.ok(statuses.includes(412), `one writer lost the race and re-read (PUT statuses ${statuses.join(',')})`);
  });

  it('reconciles route map and redistribution, keeping rules others own, and writes nothing when in sync', async () => {
    const c = await connect();
    const ls = (await c.list<{ id?: string }>(`/infra/tier-0s/${t0}/locale-services`))[0]?.id;
    assert.ok(ls);
    const vcdRule: RedistributionRule = { name: 'vcd-managed', route_redistribution_types: ['TIER1_NAT'] };
    await c.patch(`/infra/tier-0s/${t0}/locale-services/${ls}`, { route_redistribution_config: { bgp_enabled: true, redistribution_rules: [vcdRule] } });
    await c.reconcilePrefixList(t0, 'ip-spaces', { desired: [{ network: '203.0.113.0/24', action: 'PERMIT' }], owns: () => true });
    const plPath = `/infra/tier-0s/${t0}/prefix-lists/ip-spaces`;
    await c.reconcileRouteMap(t0, 'ip-spaces', {
      desired: [{ action: 'PERMIT', prefix_list_matches: [plPath] }],
      owns: (e) => e.prefix_list_matches?.includes(plPath) ?? false,
    });
    const ours: RedistributionRule = {
      name: 'vcd-operator-ip-spaces',
      route_redistribution_types: ['TIER1_CONNECTED'],
      route_map_path: `/infra/tier-0s/${t0}/route-maps/ip-spaces`,
    };
    const owns = (r: RedistributionRule): boolean => r.name === 'vcd-operator-ip-spaces';
    assert.equal((await c.reconcileRedistribution(t0, ls, { desired: [ours], owns })).changed, true);
    assert.equal((await c.reconcileRedistribution(t0, ls, { desired: [ours], owns })).changed, false);
    const stored = await c.get<{ route_redistribution_config?: { bgp_enabled?: boolean; redistribution_rules?: RedistributionRule[] } }>(
      `/infra/tier-0s/${t0}/locale-services/${ls}`,
    );
    assert.deepEqual(
      stored.route_redistribution_config?.redistribution_rules?.map((r) => r.name),
      ['vcd-managed', 'vcd-operator-ip-spaces'],
    );
    assert.equal(stored.route_redistribution_config?.bgp_enabled, true);
    await c.reconcileRedistribution(t0, ls, { desired: [], owns });
    await c.reconcileRouteMap(t0, 'ip-spaces', { desired: [], owns: () => true });
    await c.reconcilePrefixList(t0, 'ip-spaces', { desired: [], owns: () => true });
    await assert.rejects(c.get(plPath), NsxNotFoundError);
    const after = await c.get<{ route_redistribution_config?: { redistribution_rules?: RedistributionRule[] } }>(`/infra/tier-0s/${t0}/locale-services/${ls}`);
    assert.deepEqual(after.route_redistribution_config?.redistribution_rules, [vcdRule]);
  });

  it('reads interface statistics and their summary', async () => {
    const c = await connect();
    const tier1s = await c.list<{ id?: string }>('/infra/tier-1s');
    let ifPath: string | undefined;
    for (const t1 of tier1s) {
      const ifs = await c.list<{ path?: string }>(`/infra/tier-1s/${t1.id ?? ''}/locale-services/default/interfaces`);
      ifPath ??= ifs[0]?.path;
    }
    assert.ok(ifPath, 'the fixture attaches a segment to an edge, which NSX shows as a tier-1 interface');
    const stats = await c.interfaceStatistics(ifPath);
    assert.equal(typeof stats.per_node_statistics?.[0]?.rx?.total_bytes, 'number');
    const summary = await c.interfaceStatisticsSummary(ifPath);
    assert.equal(summary.interface_policy_path, ifPath);
    assert.equal(typeof summary.tx?.total_bytes, 'number');
  });

  it('refuses a server certificate from another CA', async () => {
    await assert.rejects(NsxClient.connect(opts({ caPem: sim.vcenters[0]!.caPem })), TlsVerificationError);
  });
});
