// IP Spaces of the simulated VCD: allocation through tasks, quotas, usage states, required
// filters, suggestions, org assignments and uplinks (vcd-api.md §5 and §11.6–7).
import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { API, VcdHttp, idByName } from './vcd-http.ts';

interface Allocation {
  id: string;
  value: string;
  usageState: string;
  description: string;
  orgRef: { name: string };
}

describe('simulated VCD: IP Spaces and allocations', () => {
  let sim: RunningSim;
  let http: VcdHttp;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let acme: string;
  let globex: string;
  let provider: string;
  let spaceId: string;
  let acmeEdge: string;
  let acmeOrgUuid: string;

  before(async () => {
    sim = await startSimulator({ clock: { now: () => now }, knobs: { taskDurationMs: 0 } });
    http = new VcdHttp(sim);
  });
  after(() => sim.stop());
  beforeEach(async () => {
    sim.admin.reset();
    sim.admin.setKnobs({
      taskDurationMs: 0,
      providerBypassesQuota: false,
      rejectDeleteOfUsedAllocation: false,
      serializeIpSpaces: false,
      allocationWritesLockIpSpace: false,
    });
    [acme, globex, provider] = await Promise.all([http.login('acme'), http.login('globex'), http.login('provider')]);
    spaceId = await idByName(http, acme, `${API}/ipSpaces/summaries`, 'public-ips');
    acmeEdge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    const me = (await http.send('GET', `${API}/sessions/current`, { token: acme })).body as { org: { id: string } };
    acmeOrgUuid = me.org.id.split(':').pop() ?? '';
  });

  const allocate = (token: string, body: unknown, extra = {}) => http.write('POST', `${API}/ipSpaces/${spaceId}/allocate`, token, body, extra);
  const list = async (token: string, filter: string): Promise<Allocation[]> => {
    const res = await http.send('GET', `${API}/ipSpaces/${spaceId}/allocations?filter=${encodeURIComponent(filter)}&pageSize=128`, { token });
    assert.equal(res.status, 200, res.text);
    return (res.body as { values: Allocation[] }).values;
  };

  it('allocates floating IPs in a task whose ResultContent is a JSON array of {id, value}', async () => {
    const task = await allocate(acme, { type: 'FLOATING_IP', quantity: 2 });
    assert.equal(task.status, 'success');
    assert.equal(task.owner.id, spaceId);
    const result = JSON.parse(task.resultContent ?? '[]') as Array<{ id: string; value: string }>;
    assert.equal(result.length, 2);
    for (const r of result) {
      assert.match(r.id, /^urn:vcloud:ipSpaceIpAllocation:/);
      assert.match(r.value, /^203\.0\.113\.\d+$/);
    }
    const mine = await list(acme, 'type==FLOATING_IP');
    assert.deepEqual(mine.map((a) => a.value).sort(), result.map((r) => r.value).sort());
    assert.ok(mine.every((a) => a.usageState === 'UNUSED' && a.orgRef.name === 'acme'));
    const one = await http.send('GET', `${API}/ipSpaces/${spaceId}/allocations/${result[0]?.id ?? ''}`, { token: acme });
    assert.equal((one.body as Allocation).value, result[0]?.value);
  });

  it('allocates a /28 prefix from the prefix sequence', async () => {
    const task = await allocate(acme, { type: 'IP_PREFIX', quantity: 1, prefixLength: 28 });
    const [r] = JSON.parse(task.resultContent ?? '[]') as Array<{ value: string }>;
    assert.match(r?.value ?? '', /^198\.51\.100\.\d+\/28$/);
    assert.equal(Number((r?.value ?? '').split('.')[3]?.split('/')[0]) % 16, 0, 'aligned on a /28 boundary');
    const none = await allocate(acme, { type: 'IP_PREFIX', quantity: 1, prefixLength: 27 });
    assert.equal(none.status, 'error', 'no /27 pool exists');
  });

  it('takes a specific value or range from 37.2 on, and refuses value below 37.2', async () => {
    const old = await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, {
      token: acme,
      version: '37.1',
      body: { type: 'FLOATING_IP', value: '203.0.113.50' },
    });
    assert.equal(old.status, 400);
    const one = await allocate(acme, { type: 'FLOATING_IP', value: '203.0.113.50' });
    assert.deepEqual(
      (JSON.parse(one.resultContent ?? '[]') as Array<{ value: string }>).map((r) => r.value),
      ['203.0.113.50'],
    );
    const range = await allocate(acme, { type: 'FLOATING_IP', value: '203.0.113.60-203.0.113.62' });
    assert.deepEqual(
      (JSON.parse(range.resultContent ?? '[]') as Array<{ value: string }>).map((r) => r.value),
      ['203.0.113.60', '203.0.113.61', '203.0.113.62'],
    );
    const taken = await allocate(globex, { type: 'FLOATING_IP', value: '203.0.113.50' });
    assert.equal(taken.status, 'error');
    assert.match(taken.error?.message ?? '', /already allocated/);
    const both = await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, {
      token: acme,
      body: { type: 'FLOATING_IP', value: '203.0.113.70', quantity: 1 },
    });
    assert.equal(both.status, 400, 'value and quantity are exclusive');
    const tooMany = await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, {
      token: acme,
      body: { type: 'FLOATING_IP', quantity: 6 },
      invalidBody: true,
    });
    assert.equal(tooMany.status, 400, 'quantity is at most 5');
  });

  it('enforces the org quota (default 10 floating IPs, 2 prefixes) as a task error, and custom quotas raise it', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await allocate(acme, { type: 'FLOATING_IP', quantity: 5 })).status, 'success');
    const over = await allocate(acme, { type: 'FLOATING_IP', quantity: 1 });
    assert.equal(over.status, 'error');
    assert.match(over.error?.message ?? '', /quota of 10/);
    assert.equal((await list(acme, 'type==FLOATING_IP')).length, 10, 'a failed allocation leaves nothing behind');
    assert.equal((await allocate(globex, { type: 'FLOATING_IP', quantity: 1 })).status, 'success', 'quotas are per org');

    await allocate(acme, { type: 'IP_PREFIX', quantity: 2, prefixLength: 28 });
    assert.equal((await allocate(acme, { type: 'IP_PREFIX', quantity: 1, prefixLength: 28 })).status, 'error');

    const assignments = await http.send('GET', `${API}/ipSpaces/orgAssignments?filter=${encodeURIComponent(`ipSpaceRef.id==${spaceId}`)}`, { token: provider });
    const acmeAssignment = (assignments.body as { values: Array<{ id: string; orgRef: { name: string } }> }).values.find((a) => a.orgRef.name === 'acme');
    assert.ok(acmeAssignment, 'the edge on pg-public created the org assignment');
    const put = await http.write('PUT', `${API}/ipSpaces/orgAssignments/${acmeAssignment.id}`, provider, {
      id: acmeAssignment.id,
      ipSpaceRef: { id: spaceId },
      orgRef: acmeAssignment.orgRef,
      customQuotas: { floatingIpQuota: 12, ipPrefixQuotas: [{ prefixLength: 28, quota: 3 }] },
    });
    assert.equal(put.status, 'success');
    const zero = await http.write('PUT', `${API}/ipSpaces/orgAssignments/${acmeAssignment.id}`, provider, {
      ipSpaceRef: { id: spaceId },
      orgRef: acmeAssignment.orgRef,
      customQuotas: { floatingIpQuota: 0 },
    });
    assert.equal(zero.status, 'success');
    assert.equal((await allocate(globex, { type: 'FLOATING_IP', quantity: 1 })).status, 'success', 'globex keeps the default');
    const none = await allocate(acme, { type: 'FLOATING_IP', quantity: 1 });
    assert.match(none.error?.message ?? '', /quota of 0/, 'a quota of 0 allows nothing');
    await http.write('PUT', `${API}/ipSpaces/orgAssignments/${acmeAssignment.id}`, provider, {
      ipSpaceRef: { id: spaceId },
      orgRef: acmeAssignment.orgRef,
      customQuotas: { floatingIpQuota: 12, ipPrefixQuotas: [{ prefixLength: 28, quota: 3 }] },
    });
    assert.equal((await allocate(acme, { type: 'FLOATING_IP', quantity: 2 })).status, 'success');
    assert.equal((await allocate(acme, { type: 'FLOATING_IP', quantity: 1 })).status, 'error');
    assert.equal((await allocate(acme, { type: 'IP_PREFIX', quantity: 1, prefixLength: 28 })).status, 'success');
    const summary = await http.send('GET', `${API}/ipSpaces/${spaceId}`, { token: acme });
    const util = (summary.body as { utilization: { floatingIPs: { totalCount: string; allocatedCount: string } } }).utilization.floatingIPs;
    assert.deepEqual([util.totalCount, util.allocatedCount], ['12', '12'], 'a tenant sees its quota and its own count');
  });

  it('lets a provider allocate for an org through the tenant context; quota bypass is a knob', async () => {
    await allocate(acme, { type: 'FLOATING_IP', quantity: 5 });
    await allocate(acme, { type: 'FLOATING_IP', quantity: 5 });
    const ctx = { headers: { 'x-vmware-vcloud-tenant-context': acmeOrgUuid, 'x-vmware-vcloud-auth-context': 'acme' } };
    assert.equal((await allocate(provider, { type: 'FLOATING_IP', quantity: 1 }, ctx)).status, 'error');
    sim.admin.setKnobs({ providerBypassesQuota: true });
    const task = await allocate(provider, { type: 'FLOATING_IP', quantity: 1 }, ctx);
    assert.equal(task.status, 'success');
    assert.equal((await list(acme, 'type==FLOATING_IP')).length, 11, 'the allocation belongs to acme');
    const noCtx = await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, { token: provider, body: { type: 'FLOATING_IP', quantity: 1 } });
    assert.equal(noCtx.status, 400, 'without a tenant context the System org has no edge on the gateway');
  });

  it('moves allocations between UNUSED and USED_MANUAL and releases them with DELETE', async () => {
    const [r] = JSON.parse((await allocate(acme, { type: 'FLOATING_IP', quantity: 1 })).resultContent ?? '[]') as Array<{ id: string; value: string }>;
    const path = `${API}/ipSpaces/${spaceId}/allocations/${r?.id ?? ''}`;
    const marker = 'vcd-operator/cluster=c1/ns=team-a/name=web/uid=u1';
    await http.write('PUT', path, acme, { id: r?.id, type: 'FLOATING_IP', value: r?.value, usageState: 'USED_MANUAL', description: marker });
    const found = await list(acme, 'type==FLOATING_IP;usageState==USED_MANUAL');
    assert.deepEqual(
      found.map((a) => a.description),
      [marker],
    );
    assert.equal((await http.send('PUT', path, { token: acme, body: { usageState: 'USED' } })).status, 400, 'USED is set by the system');
    assert.equal(
      (await http.send('PUT', path, { token: acme, body: { usageState: 'USED_MANUAL', value: '203.0.113.99' } })).status,
      400,
      'the value is immutable',
    );

    sim.admin.setKnobs({ rejectDeleteOfUsedAllocation: true });
    assert.equal((await http.send('DELETE', path, { token: acme })).status, 400);
    await http.write('PUT', path, acme, { usageState: 'UNUSED', description: '' });
    assert.equal((await http.write('DELETE', path, acme)).status, 'success');
    assert.equal((await http.send('GET', path, { token: acme })).status, 403, 'a released allocation is gone');
  });

  it('keeps orgs apart: another org’s allocation is 403 and lists show only one’s own', async () => {
    const [r] = JSON.parse((await allocate(acme, { type: 'FLOATING_IP', quantity: 1 })).resultContent ?? '[]') as Array<{ id: string }>;
    await allocate(globex, { type: 'FLOATING_IP', quantity: 1 });
    assert.equal((await http.send('GET', `${API}/ipSpaces/${spaceId}/allocations/${r?.id ?? ''}`, { token: globex })).status, 403);
    assert.equal((await list(globex, 'type==FLOATING_IP')).length, 1);
    assert.equal((await list(provider, 'type==FLOATING_IP')).length, 2, 'a provider without tenant context sees all');
  });

  it('requires the filters VCD requires', async () => {
    const noType = await http.send('GET', `${API}/ipSpaces/${spaceId}/allocations`, { token: acme });
    assert.equal(noType.status, 400);
    assert.equal((noType.body as { minorErrorCode: string }).minorErrorCode, 'BAD_REQUEST');
    assert.equal((await http.send('GET', `${API}/ipSpaceUplinks`, { token: provider })).status, 400);
    assert.equal((await http.send('GET', `${API}/ipSpaces/orgAssignments`, { token: provider })).status, 400);
    assert.equal((await http.send('GET', `${API}/ipSpaces/floatingIpSuggestions`, { token: acme })).status, 400);
    const badFiql = await http.send('GET', `${API}/ipSpaces/${spaceId}/allocations?filter=${encodeURIComponent('type=FLOATING_IP')}`, { token: acme });
    assert.equal(badFiql.status, 400);
    assert.match((badFiql.body as { message: string }).message, /QueryParseException/);
  });

  it('suggests the org’s unused floating IPs per IP Space of an edge (403 for unknown edges)', async () => {
    const values = (JSON.parse((await allocate(acme, { type: 'FLOATING_IP', quantity: 3 })).resultContent ?? '[]') as Array<{ value: string }>).map(
      (r) => r.value,
    );
    const res = await http.send('GET', `${API}/ipSpaces/floatingIpSuggestions?filter=${encodeURIComponent(`gatewayId==${acmeEdge}`)}`, { token: acme });
    assert.equal(res.status, 200);
    const [s] = (res.body as { values: Array<{ ipSpaceRef: { id: string }; unusedValues: string[] }> }).values;
    assert.equal(s?.ipSpaceRef.id, spaceId);
    assert.deepEqual(s?.unusedValues.sort(), values.sort());
    const unknown = await http.send(
      'GET',
      `${API}/ipSpaces/floatingIpSuggestions?filter=${encodeURIComponent('gatewayId==urn:vcloud:gateway:00000000-0000-0000-0000-000000000000')}`,
      { token: acme },
    );
    assert.equal(unknown.status, 403);
  });

  it('lists uplinks of a provider gateway and creates IP Spaces, uplinks and assignments for providers only', async () => {
    const nets = (await http.send('GET', `${API}/externalNetworks?filter=${encodeURIComponent('name==pg-public')}`, { token: provider })).body as {
      values: Array<{ id: string; usingIpSpace: boolean }>;
    };
    const pg = nets.values[0];
    assert.equal(pg?.usingIpSpace, true);
    const uplinks = await http.send('GET', `${API}/ipSpaceUplinks?filter=${encodeURIComponent(`externalNetworkRef.id==${pg?.id ?? ''}`)}`, { token: provider });
    assert.equal((uplinks.body as { values: Array<{ ipSpaceRef: { id: string } }> }).values[0]?.ipSpaceRef.id, spaceId);

    const body = {
      name: 'team-ips',
      type: 'PUBLIC',
      ipSpaceInternalScope: ['192.0.2.0/24'],
      ipSpaceExternalScope: '0.0.0.0/0',
      ipSpaceRanges: { ipRanges: [{ startIpAddress: '192.0.2.10', endIpAddress: '192.0.2.20' }], defaultFloatingIpQuota: 3 },
      ipSpacePrefixes: [],
      routeAdvertisementEnabled: false,
    };
    assert.equal((await http.send('POST', `${API}/ipSpaces`, { token: acme, body })).status, 403);
    const created = await http.write('POST', `${API}/ipSpaces`, provider, body);
    assert.match(created.owner.id, /^urn:vcloud:ipSpace:/);
    const outside = await http.send('POST', `${API}/ipSpaces`, {
      token: provider,
      body: { ...body, name: 'bad', ipSpaceRanges: { ipRanges: [{ startIpAddress: '10.0.0.1', endIpAddress: '10.0.0.5' }] } },
    });
    assert.equal(outside.status, 400, 'ranges must lie in the internal scope');
    const uplink = await http.write('POST', `${API}/ipSpaceUplinks`, provider, {
      name: 'team-uplink',
      externalNetworkRef: { id: pg?.id },
      ipSpaceRef: { id: created.owner.id },
    });
    assert.equal(uplink.status, 'success');
    // The uplink makes the space usable by orgs with an edge on pg-public.
    const got = await http.send('GET', `${API}/ipSpaces/${created.owner.id}`, { token: acme });
    assert.equal(got.status, 200);
    assert.equal((got.body as { ipSpaceRanges: { defaultFloatingIpQuota: number } }).ipSpaceRanges.defaultFloatingIpQuota, 3);
  });

  it('keeps defaultGatewayServiceConfig for 38.0 clients, hidden from older ones and untouched by their writes', async () => {
    const body = {
      name: 'gsc',
      type: 'PUBLIC',
      ipSpaceInternalScope: ['192.0.2.0/24'],
      defaultGatewayServiceConfig: { enableDefaultFirewallRuleCreation: true, enableDefaultNoSnatRuleCreation: false, enableDefaultSnatRuleCreation: true },
    };
    const created = await http.write('POST', `${API}/ipSpaces`, provider, body, { version: '38.0' });
    const path = `${API}/ipSpaces/${created.owner.id}`;
    const at38 = (await http.send('GET', path, { token: provider, version: '38.0' })).body as Record<string, unknown>;
    assert.deepEqual(at38['defaultGatewayServiceConfig'], body.defaultGatewayServiceConfig);
    const at372 = (await http.send('GET', path, { token: provider })).body as Record<string, unknown>;
    assert.ok(!('defaultGatewayServiceConfig' in at372));
    await http.write('PUT', path, provider, { ...at372, description: 'from an older client' });
    const after = (await http.send('GET', path, { token: provider, version: '38.0' })).body as Record<string, unknown>;
    assert.deepEqual(after['defaultGatewayServiceConfig'], body.defaultGatewayServiceConfig);
    assert.equal(after['description'], 'from an older client');
  });

  it('fails the task without allocating when a task-error fault is injected', async () => {
    sim.admin.addFault({ route: 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate', kind: 'task-error', times: 1 });
    const task = await allocate(acme, { type: 'FLOATING_IP', quantity: 1 });
    assert.equal(task.status, 'error');
    assert.equal(task.error?.minorErrorCode, 'INTERNAL_SERVER_ERROR');
    assert.equal((await list(acme, 'type==FLOATING_IP')).length, 0);
    assert.equal((await allocate(acme, { type: 'FLOATING_IP', quantity: 1 })).status, 'success', 'the fault applied once');
  });

  it('serialises writes per IP Space when the knob says so (400 BUSY_ENTITY while a task runs)', async () => {
    sim.admin.setKnobs({ taskDurationMs: 1000, serializeIpSpaces: true });
    const first = await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, { token: acme, body: { type: 'FLOATING_IP', quantity: 1 } });
    assert.equal(first.status, 202);
    const second = await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, { token: globex, body: { type: 'FLOATING_IP', quantity: 1 } });
    assert.equal(second.status, 400);
    assert.equal((second.body as { minorErrorCode: string }).minorErrorCode, 'BUSY_ENTITY');
    now += 1000;
    assert.equal((await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, { token: globex, body: { type: 'FLOATING_IP', quantity: 1 } })).status, 202);
  });

  it('lets an allocation be marked while its IP Space allocates, unless allocation writes lock the IP Space', async () => {
    sim.admin.setKnobs({ serializeIpSpaces: true });
    const made = JSON.parse((await allocate(acme, { type: 'FLOATING_IP', quantity: 1 })).resultContent ?? '[]') as Array<{ id: string; value: string }>;
    const mark = () =>
      http.send('PUT', `${API}/ipSpaces/${spaceId}/allocations/${made[0]?.id ?? ''}`, {
        token: acme,
        body: { id: made[0]?.id, type: 'FLOATING_IP', value: made[0]?.value, usageState: 'USED_MANUAL', description: 'mine' },
      });
    for (const [lockIt, expected] of [
      [false, 202],
      [true, 400],
    ] as const) {
      sim.admin.setKnobs({ taskDurationMs: 1000, allocationWritesLockIpSpace: lockIt });
      assert.equal((await http.send('POST', `${API}/ipSpaces/${spaceId}/allocate`, { token: globex, body: { type: 'FLOATING_IP', quantity: 1 } })).status, 202);
      const res = await mark();
      assert.equal(res.status, expected, res.text);
      now += 1000;
      sim.admin.setKnobs({ taskDurationMs: 0 });
    }
  });

  it('pages allocations with Link rel="nextPage" and caps pageSize at 128', async () => {
    sim.admin.setKnobs({ providerBypassesQuota: true });
    const ctx = { headers: { 'x-vmware-vcloud-tenant-context': acmeOrgUuid } };
    for (let i = 0; i < 27; i++) await allocate(provider, { type: 'FLOATING_IP', quantity: 5 }, ctx);
    const first = await http.send('GET', `${API}/ipSpaces/${spaceId}/allocations?filter=type==FLOATING_IP&pageSize=500`, { token: acme });
    const page = first.body as { resultTotal: number; pageCount: number; pageSize: number; values: unknown[] };
    assert.deepEqual([page.resultTotal, page.pageSize, page.pageCount, page.values.length], [135, 128, 2, 128]);
    const next = /<([^>]+)>;rel="nextPage"/.exec(first.headers['link'] ?? '')?.[1];
    assert.ok(next, `a nextPage link: ${first.headers['link'] ?? ''}`);
    const second = await http.send('GET', new URL(next).pathname + new URL(next).search, { token: acme });
    assert.equal((second.body as { values: unknown[] }).values.length, 7);
    assert.ok(!/rel="nextPage"/.test(second.headers['link'] ?? ''), 'no nextPage on the last page');
  });
});
