// Edge gateways of the simulated VCD: uplinks, the whole-list firewall PUT, single rules,
// appliedTo scope, BUSY_ENTITY, groups, port profiles, static routes and fault injection.
import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { API, VcdHttp, idByName } from './vcd-http.ts';

interface Rule {
  id: string;
  name: string;
  version: { version: number };
  appliedTo?: { id: string; name: string };
  comments?: string;
}
interface Rules {
  systemRules: Rule[];
  userDefinedRules: Rule[];
  defaultRules: Rule[];
}

describe('simulated VCD: edge gateways, firewall and static routes', () => {
  let sim: RunningSim;
  let http: VcdHttp;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let acme: string;
  let provider: string;
  let edge: string;
  let rulesPath: string;
  let segId: string;
  let pgId: string;

  before(async () => {
    sim = await startSimulator({ clock: { now: () => now }, knobs: { taskDurationMs: 0 } });
    http = new VcdHttp(sim);
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.admin.reset();
    sim.admin.setKnobs({ taskDurationMs: 0 });
    [acme, provider] = await Promise.all([http.login('acme'), http.login('provider')]);
    edge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    rulesPath = `${API}/edgeGateways/${edge}/firewall/rules`;
    segId = await idByName(http, provider, `${API}/externalNetworks`, 'seg-transit');
    pgId = await idByName(http, provider, `${API}/externalNetworks`, 'pg-public');
  });

  const rules = async (version?: string): Promise<Rules> => {
    const res = await http.send('GET', rulesPath, { token: acme, ...(version ? { version } : {}) });
    assert.equal(res.status, 200, res.text);
    return res.body as Rules;
  };
  const rule = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    name,
    actionValue: 'ALLOW',
    direction: 'IN_OUT',
    ipProtocol: 'IPV4',
    enabled: true,
    logging: false,
    ...extra,
  });

  it('shows the Tier-0 and segment-backed uplinks with their backing types, gated by version', async () => {
    const res = await http.send('GET', `${API}/edgeGateways/${edge}`, { token: acme });
    const uplinks = (res.body as { edgeGatewayUplinks: Array<{ uplinkId: string; backingType: string; usingIpSpace: boolean }> }).edgeGatewayUplinks;
    assert.deepEqual(uplinks.map((u) => u.backingType).sort(), ['IMPORTED_T_LOGICAL_SWITCH', 'NSXT_TIER0']);
    assert.notEqual(uplinks[0]?.backingType, 'NSXT_TIER0', 'uplink order is not something to rely on');
    assert.equal(uplinks.find((u) => u.uplinkId === pgId)?.usingIpSpace, true);
    const old = await http.send('GET', `${API}/edgeGateways/${edge}`, { token: acme, version: '37.0' });
    const oldUplink = (old.body as { edgeGatewayUplinks: Array<Record<string, unknown>> }).edgeGatewayUplinks[0] ?? {};
    assert.ok(!('backingType' in oldUplink) && !('usingIpSpace' in oldUplink), 'fields added in 37.1 are absent at 37.0');
  });

  it('replaces the whole user-defined list: ids kept, missing rules deleted, payload order kept, versions bumped on change', async () => {
    await http.write('PUT', rulesPath, acme, { userDefinedRules: [rule('a'), rule('b'), rule('c')] });
    const first = await rules();
    assert.deepEqual(
      first.userDefinedRules.map((r) => r.name),
      ['a', 'b', 'c'],
    );
    assert.equal(first.defaultRules.length, 1, 'the default rule stays');
    const [a, b, c] = first.userDefinedRules as [Rule, Rule, Rule];

    await http.write('PUT', rulesPath, acme, {
      userDefinedRules: [rule('new'), { ...b }, { ...rule('a', { actionValue: 'DROP' }), id: a.id, version: a.version }],
    });
    const second = await rules();
    assert.deepEqual(
      second.userDefinedRules.map((r) => r.name),
      ['new', 'b', 'a'],
    );
    const byName = new Map(second.userDefinedRules.map((r) => [r.name, r]));
    assert.equal(byName.get('a')?.id, a.id);
    assert.equal(byName.get('b')?.id, b.id);
    assert.ok(!second.userDefinedRules.some((r) => r.id === c.id), 'c was left out and is deleted');
    assert.equal(byName.get('a')?.version.version, a.version.version + 1, 'a changed');
    assert.equal(byName.get('b')?.version.version, b.version.version, 'b did not change');

    await http.write('DELETE', rulesPath, acme);
    const cleared = await rules();
    assert.deepEqual(cleared.userDefinedRules, []);
    assert.equal(cleared.defaultRules.length, 1, 'DELETE keeps default rules');
  });

  it('refuses later-version rule fields it cannot honour instead of widening the rule', async () => {
    for (const extra of [{ sourceFirewallIpAddresses: ['10.0.0.1'] }, { relativePosition: { adjacentRuleId: 'x', rulePosition: 'BEFORE' } }]) {
      const res = await http.send('PUT', rulesPath, { token: acme, version: '38.1', body: { userDefinedRules: [rule('raw', extra)] } });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.match((res.body as { message: string }).message, /not supported by the simulator/);
    }
  });

  it('reads, updates (with the current version) and deletes single rules', async () => {
    await http.write('PUT', rulesPath, acme, { userDefinedRules: [rule('one'), rule('two')] });
    const [one] = (await rules()).userDefinedRules as [Rule];
    const path = `${rulesPath}/${one.id}`;
    const got = (await http.send('GET', path, { token: acme })).body as Rule;
    assert.equal(got.name, 'one');
    assert.equal((await http.send('PUT', path, { token: acme, body: rule('one') })).status, 400, 'the version is required');
    assert.equal((await http.send('PUT', path, { token: acme, body: { ...rule('one'), version: { version: 7 } } })).status, 400, 'a stale version is refused');
    await http.write('PUT', path, acme, { ...rule('one', { comments: 'edited' }), version: got.version });
    const edited = (await http.send('GET', path, { token: acme })).body as Rule;
    assert.equal(edited.comments, 'edited');
    assert.equal(edited.version.version, got.version.version + 1);
    await http.write('DELETE', path, acme);
    assert.deepEqual(
      (await rules()).userDefinedRules.map((r) => r.name),
      ['two'],
    );
    assert.equal((await http.send('GET', path, { token: acme })).status, 403);
  });

  it('accepts appliedTo only for the edge’s service interfaces, and drops it for clients below 37.1', async () => {
    const nets = (await http.send('GET', `${API}/orgVdcNetworks`, { token: acme })).body as { values: Array<{ id: string; name: string }> };
    const nonDistributed = nets.values.find((n) => n.name === 'acme-web')?.id ?? '';
    const distributed = nets.values.find((n) => n.name === 'acme-app')?.id ?? '';
    await http.write('PUT', rulesPath, acme, {
      userDefinedRules: [rule('seg', { appliedTo: { id: segId } }), rule('web', { appliedTo: { id: nonDistributed } })],
    });
    const scoped = await rules();
    assert.deepEqual(
      scoped.userDefinedRules.map((r) => r.appliedTo?.name),
      ['seg-transit', 'acme-web'],
    );
    for (const bad of [pgId, distributed, 'urn:vcloud:network:00000000-0000-0000-0000-000000000000']) {
      const res = await http.send('PUT', rulesPath, { token: acme, body: { userDefinedRules: [rule('x', { appliedTo: { id: bad } })] } });
      assert.equal(res.status, 400, bad);
      assert.match((res.body as { message: string }).message, /service interface/);
    }
    // The read-modify-write trap: a 37.0 client never sees appliedTo, so its PUT clears it.
    const old = await rules('37.0');
    assert.ok(old.userDefinedRules.every((r) => !('appliedTo' in r)));
    await http.write('PUT', rulesPath, acme, { userDefinedRules: old.userDefinedRules }, { version: '37.0' });
    assert.ok((await rules()).userDefinedRules.every((r) => r.appliedTo === undefined));
  });

  it('answers 400 BUSY_ENTITY to a second write while the edge’s task runs, for firewall and static routes alike', async () => {
    sim.admin.setKnobs({ taskDurationMs: 1000 });
    const first = await http.send('PUT', rulesPath, { token: acme, body: { userDefinedRules: [rule('a')] } });
    assert.equal(first.status, 202);
    const second = await http.send('PUT', rulesPath, { token: acme, body: { userDefinedRules: [rule('b')] } });
    assert.equal(second.status, 400);
    const err = second.body as { minorErrorCode: string; message: string };
    assert.equal(err.minorErrorCode, 'BUSY_ENTITY');
    assert.match(err.message, /com\.vmware\.vcloud\.entity\.gateway:[0-9a-f-]{36} is busy completing an operation EDGE_GATEWAY_FIREWALL_UPDATE/);
    const route = await http.send('POST', `${API}/edgeGateways/${edge}/routing/staticRoutes`, {
      token: acme,
      body: { name: 'r', networkCidr: '10.99.0.0/16', nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1 }] },
    });
    assert.equal(route.status, 400);
    const globexEdge = await idByName(http, provider, `${API}/edgeGateways`, 'globex-edge');
    assert.equal(
      (await http.send('PUT', `${API}/edgeGateways/${globexEdge}/firewall/rules`, { token: provider, body: { userDefinedRules: [] } })).status,
      202,
      'other edges are not locked',
    );
    now += 1000;
    assert.equal((await http.send('PUT', rulesPath, { token: acme, body: { userDefinedRules: [rule('b')] } })).status, 202);
  });

  it('checks group and port-profile references and refuses to delete what a rule uses', async () => {
    const group = await http.write('POST', `${API}/firewallGroups`, acme, {
      name: 'web-servers',
      typeValue: 'IP_SET',
      ipAddresses: ['10.10.1.0/24', '10.10.1.5', '10.10.1.10-10.10.1.20'],
      ownerRef: { id: edge },
    });
    const profiles = (await http.send('GET', `${API}/applicationPortProfiles?filter=${encodeURIComponent('scope==SYSTEM')}&pageSize=128`, { token: acme }))
      .body as { values: Array<{ id: string; name: string }> };
    const https = profiles.values.find((p) => p.name === 'HTTPS');
    assert.ok(https);
    const custom = await http.write('POST', `${API}/applicationPortProfiles`, acme, {
      name: 'app-8443',
      scope: 'TENANT',
      applicationPorts: [{ protocol: 'TCP', destinationPorts: ['8443', '9000-9010'] }],
    });
    await http.write('PUT', rulesPath, acme, {
      userDefinedRules: [
        rule('to-web', { destinationFirewallGroups: [{ id: group.owner.id }], applicationPortProfiles: [{ id: https.id }, { id: custom.owner.id }] }),
      ],
    });
    const stored = (await rules()).userDefinedRules[0] as unknown as {
      destinationFirewallGroups: Array<{ name: string }>;
      applicationPortProfiles: Array<{ name: string }>;
    };
    assert.deepEqual(
      stored.destinationFirewallGroups.map((g) => g.name),
      ['web-servers'],
    );
    assert.deepEqual(
      stored.applicationPortProfiles.map((p) => p.name),
      ['HTTPS', 'app-8443'],
    );

    const unknownGroup = await http.send('PUT', rulesPath, {
      token: acme,
      body: { userDefinedRules: [rule('x', { sourceFirewallGroups: [{ id: 'urn:vcloud:firewallGroup:00000000-0000-0000-0000-000000000000' }] })] },
    });
    assert.equal(unknownGroup.status, 400);
    assert.equal((await http.send('DELETE', `${API}/firewallGroups/${group.owner.id}`, { token: acme })).status, 400);
    const listed = await http.send('GET', `${API}/firewallGroups/summaries?filter=${encodeURIComponent(`_context==${edge};typeValue==IP_SET`)}`, {
      token: acme,
    });
    assert.deepEqual(
      (listed.body as { values: Array<{ name: string }> }).values.map((g) => g.name),
      ['web-servers'],
    );
    assert.equal(
      (
        await http.send('POST', `${API}/firewallGroups`, {
          token: acme,
          body: { name: 'bad', typeValue: 'IP_SET', ipAddresses: ['not-an-ip'], ownerRef: { id: edge } },
        })
      ).status,
      400,
    );
  });

  it('creates static routes with the edge as task Owner and the route id in Details, and pages them by cursor', async () => {
    const body = {
      name: 'default-low',
      description: 'half of 0/0',
      networkCidr: '0.0.0.0/1',
      nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1, scope: { id: segId, scopeType: 'NETWORK' } }],
    };
    const task = await http.write('POST', `${API}/edgeGateways/${edge}/routing/staticRoutes`, acme, body);
    assert.equal(task.owner.id, edge);
    assert.match(task.details ?? '', /^[0-9a-f-]{36}$/);
    const route = (await http.send('GET', `${API}/edgeGateways/${edge}/routing/staticRoutes/${task.details ?? ''}`, { token: acme })).body as {
      name: string;
      version: { version: number };
      nextHops: Array<{ scope: { name: string } }>;
    };
    assert.equal(route.name, 'default-low');
    assert.equal(route.nextHops[0]?.scope.name, 'seg-transit');
    await http.write('PUT', `${API}/edgeGateways/${edge}/routing/staticRoutes/${task.details ?? ''}`, acme, {
      ...body,
      id: task.details,
      version: route.version,
      description: 'changed',
    });

    for (let i = 0; i < 29; i++)
      await http.write('POST', `${API}/edgeGateways/${edge}/routing/staticRoutes`, acme, {
        ...body,
        name: `r${i}`,
        networkCidr: `10.${i}.0.0/16`,
        nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1 }],
      });
    const first = await http.send('GET', `${API}/edgeGateways/${edge}/routing/staticRoutes?pageSize=25`, { token: acme });
    const page1 = first.body as Record<string, unknown> & { values: unknown[] };
    assert.deepEqual(Object.keys(page1), ['values'], 'cursor paging has no page envelope');
    assert.equal(page1.values.length, 25);
    const next = /<([^>]+)>;rel="nextPage"/.exec(first.headers['link'] ?? '')?.[1] ?? '';
    assert.match(next, /cursor=/);
    const second = await http.send('GET', new URL(next).pathname + new URL(next).search, { token: acme });
    assert.equal((second.body as { values: unknown[] }).values.length, 5);
    await http.write('DELETE', `${API}/edgeGateways/${edge}/routing/staticRoutes/${task.details ?? ''}`, acme);
    assert.equal((await http.send('GET', `${API}/edgeGateways/${edge}/routing/staticRoutes/${task.details ?? ''}`, { token: acme })).status, 403);
  });

  it('commits a write whose response is dropped, and answers injected 503s with Retry-After in VCD’s error shape', async () => {
    sim.admin.addFault({ route: 'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules', kind: 'drop-after-commit', times: 1 });
    await assert.rejects(http.send('PUT', rulesPath, { token: acme, body: { userDefinedRules: [rule('committed')] } }));
    assert.deepEqual(
      (await rules()).userDefinedRules.map((r) => r.name),
      ['committed'],
      'the write happened although the client saw no answer',
    );

    sim.admin.addFault({ route: 'GET /cloudapi/1.0.0/edgeGateways/{id}', kind: 'status', status: 503, retryAfterSeconds: 2, times: 1 });
    const failed = await http.send('GET', `${API}/edgeGateways/${edge}`, { token: acme });
    assert.equal(failed.status, 503);
    assert.equal(failed.headers['retry-after'], '2');
    assert.equal((failed.body as { minorErrorCode: string }).minorErrorCode, 'SERVICE_UNAVAILABLE');
    assert.equal((await http.send('GET', `${API}/edgeGateways/${edge}`, { token: acme })).status, 200);
  });

  it('creates and deletes edges (provider only) with their NSX tier-1 backing and org assignment', async () => {
    const vdcs = (await http.send('GET', `${API}/vdcs`, { token: provider })).body as { values: Array<{ id: string; name: string }> };
    const globexVdc = vdcs.values.find((v) => v.name === 'globex-vdc')?.id ?? '';
    const body = { name: 'globex-edge-2', ownerRef: { id: globexVdc }, edgeGatewayUplinks: [{ uplinkId: pgId, subnets: { values: [] } }] };
    const globex = await http.login('globex');
    assert.equal((await http.send('POST', `${API}/edgeGateways`, { token: globex, body })).status, 403);
    const created = await http.write('POST', `${API}/edgeGateways`, provider, body);
    assert.match(created.owner.id, /^urn:vcloud:gateway:/);
    const backing = ((await http.send('GET', `${API}/edgeGateways/${created.owner.id}`, { token: provider })).body as { gatewayBacking: { backingId: string } })
      .gatewayBacking.backingId;
    const tier1 = (): Record<string, unknown> | undefined => sim.admin.state().nsx.objects.find((o) => o.path === `/infra/tier-1s/${backing}`);
    assert.equal(tier1()?.['display_name'], 'globex-edge-2', 'the edge has a tier-1 in NSX');
    assert.equal(tier1()?.['tier0_path'], '/infra/tier-0s/pg-public-t0', 'linked to the provider gateway’s tier-0');
    await http.write('DELETE', `${API}/edgeGateways/${created.owner.id}`, provider);
    assert.equal(tier1(), undefined, 'deleting the edge removes its tier-1');
    const noTier0 = await http.send('POST', `${API}/edgeGateways`, {
      token: provider,
      body: { ...body, edgeGatewayUplinks: [{ uplinkId: segId, subnets: { values: [{ gateway: '172.16.50.1', prefixLength: 24 }] } }] },
    });
    assert.equal(noTier0.status, 400);
  });

  it('adds a segment-backed uplink to an edge (provider), backing it in NSX and making it a valid appliedTo', async () => {
    const globexEdge = await idByName(http, provider, `${API}/edgeGateways`, 'globex-edge');
    const current = (await http.send('GET', `${API}/edgeGateways/${globexEdge}`, { token: provider })).body as Record<string, unknown> & {
      edgeGatewayUplinks: unknown[];
      gatewayBacking: { backingId: string };
    };
    const globex = await http.login('globex');
    const body = {
      ...current,
      edgeGatewayUplinks: [
        ...current.edgeGatewayUplinks,
        { uplinkId: segId, subnets: { values: [{ gateway: '172.16.50.1', prefixLength: 24, primaryIp: '172.16.50.20', enabled: true }] }, connected: true },
      ],
    };
    assert.equal((await http.send('PUT', `${API}/edgeGateways/${globexEdge}`, { token: globex, body })).status, 403, 'tenants cannot change uplinks');
    await http.write('PUT', `${API}/edgeGateways/${globexEdge}`, provider, body);
    const iface = sim.admin
      .state()
      .nsx.objects.find(
        (o) => o.path.startsWith(`/infra/tier-1s/${current.gatewayBacking.backingId}/locale-services/`) && o.resource_type === 'Tier1Interface',
      );
    assert.equal(iface?.['segment_path'], '/infra/segments/seg-transit');
    const res = await http.send('PUT', `${API}/edgeGateways/${globexEdge}/firewall/rules`, {
      token: globex,
      body: { userDefinedRules: [rule('scoped', { appliedTo: { id: segId } })] },
    });
    assert.equal(res.status, 202);
  });

  it('serves system rules from the fixture first and never touches them on PUT or DELETE', async () => {
    const fixture = `
provider: { org: System, username: administrator, password: sim-Provider-pw1, apiToken: t0 }
orgs:
  - { name: acme, vdcs: [acme-vdc], users: [{ username: acme-admin, password: sim-Acme-pw1, apiToken: t1 }] }
externalNetworks:
  - { name: pg, kind: TIER0, usingIpSpace: true }
ipSpaces: []
edges:
  - name: acme-edge
    org: acme
    vdc: acme-vdc
    uplinks: [{ externalNetwork: pg }]
    systemRules: [{ name: ipsec-vpn, actionValue: ALLOW, direction: IN_OUT, ipProtocol: IPV4 }]
nsx: { username: admin, password: x }
vcenters: []
`;
    const small = await startSimulator({ fixture, knobs: { taskDurationMs: 0 } });
    try {
      const h = new VcdHttp(small);
      const token = await h.login('acme');
      const e = await idByName(h, token, `${API}/edgeGateways`, 'acme-edge');
      const path = `${API}/edgeGateways/${e}/firewall/rules`;
      await h.write('PUT', path, token, { userDefinedRules: [rule('mine')] });
      await h.write('DELETE', path, token);
      const after = (await h.send('GET', path, { token })).body as Rules;
      assert.deepEqual(
        after.systemRules.map((r) => r.name),
        ['ipsec-vpn'],
      );
      assert.deepEqual(after.userDefinedRules, []);
    } finally {
      await small.stop();
    }
  });

  it('creates org VDC networks, non-distributed only on edges that allow it', async () => {
    const vdcs = (await http.send('GET', `${API}/vdcs`, { token: provider })).body as { values: Array<{ id: string; name: string }> };
    const globex = await http.login('globex');
    const globexEdge = await idByName(http, globex, `${API}/edgeGateways`, 'globex-edge');
    const net = (name: string, vdc: string, router: string, type: string) => ({
      name,
      ownerRef: { id: vdcs.values.find((v) => v.name === vdc)?.id },
      subnets: { values: [{ gateway: '10.30.0.1', prefixLength: 24 }] },
      connection: { routerRef: { id: router }, connectionTypeValue: type },
    });
    assert.equal(
      (await http.send('POST', `${API}/orgVdcNetworks`, { token: globex, body: net('g-nd', 'globex-vdc', globexEdge, 'NON_DISTRIBUTED') })).status,
      400,
    );
    const ok = await http.write('POST', `${API}/orgVdcNetworks`, acme, net('a-nd', 'acme-vdc', edge, 'NON_DISTRIBUTED'));
    await http.write('PUT', rulesPath, acme, { userDefinedRules: [rule('on-new-net', { appliedTo: { id: ok.owner.id } })] });
    assert.equal((await rules()).userDefinedRules[0]?.appliedTo?.name, 'a-nd');
  });
});
