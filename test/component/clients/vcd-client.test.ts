import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  CloudNetworkError,
  ClientClosedError,
  TlsVerificationError,
  UnsupportedApiVersionError,
  VcdApiError,
  VcdAuthError,
  VcdClient,
  VcdNotFoundError,
  VcdQuotaExceededError,
  VcdTaskError,
  VcdTaskTimeoutError,
  type VcdConnectOptions,
} from '../../../src/clients/vcd/index.ts';
import { systemClock } from '../../../src/clients/common/clock.ts';
import { captureLog, fastBusyRetry, fastPoll, fastRetry } from './helpers.ts';

const ALLOCATE = 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate';
const SUMMARIES = 'GET /cloudapi/1.0.0/ipSpaces/summaries';
const FIREWALL_PUT = 'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules';

describe('VCD client against the simulator', function () {
  this.timeout(30_000);
  let sim: RunningSim;
  const clients: VcdClient[] = [];

  const provider = (): VcdConnectOptions => ({
    url: sim.vcd.url,
    org: 'System',
    auth: { apiToken: sim.credentials.provider.apiToken },
    caPem: sim.caPem,
    retry: fastRetry,
    busyRetry: fastBusyRetry,
    taskPoll: fastPoll,
  });
  const tenant = (org = 'acme'): VcdConnectOptions => {
    const t = sim.credentials.tenants.find((x) => x.org === org);
    if (!t) throw new Error(`no tenant ${org} in the fixture`);
    return {
      url: sim.vcd.url,
      org,
      auth: { username: t.username, password: t.password },
      caPem: sim.caPem,
      retry: fastRetry,
      busyRetry: fastBusyRetry,
      taskPoll: fastPoll,
    };
  };
  async function connect(opts: VcdConnectOptions): Promise<VcdClient> {
    const c = await VcdClient.connect(opts);
    clients.push(c);
    return c;
  }
  async function publicIps(c: VcdClient): Promise<string> {
    const s = await c.ipSpaces.findByName('public-ips');
    assert.ok(s?.id, 'the fixture has the public-ips IP Space');
    return s.id;
  }
  async function edgeId(c: VcdClient, name = 'acme-edge'): Promise<string> {
    const e = await c.edgeGateways.findByName(name);
    assert.ok(e?.id, `the fixture has ${name}`);
    return e.id;
  }
  /** VCD running one allocate per IP Space at a time (100 ms unless told), and a tenant client that has seen one end. */
  async function serialisedPublicIps(
    knobs: { taskDurationMs: number; latencyMs?: number } = { taskDurationMs: 100 },
  ): Promise<{ c: VcdClient; id: string; from: number }> {
    sim.admin.setKnobs({ serializeIpSpaces: true, ...knobs });
    const c = await connect(tenant());
    const id = await publicIps(c);
    await c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }); // learns how long an allocate takes
    return { c, id, from: sim.admin.audit().at(-1)?.seq ?? 0 };
  }
  /** A PRIVATE IP Space of org acme with eleven addresses, created by the provider. */
  async function createPrivateAcme(p: VcdClient) {
    const acmeRef = (await p.edgeGateways.get(await edgeId(p))).orgRef;
    assert.ok(acmeRef?.id);
    return p.ipSpaces.create({
      name: 'private-acme',
      type: 'PRIVATE',
      orgRef: acmeRef,
      ipSpaceInternalScope: ['10.20.0.0/16'],
      ipSpaceRanges: { ipRanges: [{ startIpAddress: '10.20.0.10', endIpAddress: '10.20.0.20' }] },
    });
  }
  const calls = (route: string): number => sim.admin.callCount(route, 'vcd');

  before(async () => {
    sim = await startSimulator({ knobs: { latencyMs: 0, taskDurationMs: 30 } });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    sim.admin.reset();
    sim.admin.setKnobs({ taskDurationMs: 30, serializeEdges: true, serializeIpSpaces: false });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  describe('connection', () => {
    it('negotiates the highest common API version and reports the VCD release', async () => {
      const c = await connect(provider());
      assert.equal(c.apiVersion, '37.2');
      assert.equal(c.vcdVersion, '10.6.0');
      assert.equal(c.isProvider, true);
      const t = await connect(tenant());
      assert.equal(t.isProvider, false);
    });

    it('reuses one token across requests and logs out on close', async () => {
      const c = await VcdClient.connect(provider());
      await Promise.all([c.ipSpaces.list(), c.edgeGateways.list(), c.ipSpaces.list()]);
      await c.ipSpaces.list();
      assert.equal(calls('POST /oauth/provider/token'), 1);
      await c.close();
      assert.equal(calls('DELETE /cloudapi/1.0.0/sessions/current'), 1);
      await assert.rejects(c.ipSpaces.list(), ClientClosedError);
    });

    it('logs in again when the token expires mid-run (API token and Basic)', async () => {
      const c = await connect(provider());
      const t = await connect(tenant());
      await c.ipSpaces.list();
      await t.edgeGateways.list();
      assert.ok(sim.admin.expireSessions() >= 2);
      assert.equal((await c.ipSpaces.list()).length, 1);
      assert.equal((await t.edgeGateways.list()).length, 1);
      assert.equal(calls('POST /oauth/provider/token'), 2);
      assert.equal(calls('POST /cloudapi/1.0.0/sessions'), 2);
    });

    it('renews an API-token session shortly before expires_in, without meeting a 401', async () => {
      let offsetMs = 0;
      const clock = { now: () => Date.now() + offsetMs, sleep: (ms: number, signal?: AbortSignal) => systemClock.sleep(ms, signal) };
      const c = await connect({ ...provider(), clock });
      await c.ipSpaces.list();
      offsetMs = 3600_000 - 20_000; // inside the 30 s safety margin of the one-hour token
      await c.ipSpaces.list();
      assert.equal(calls('POST /oauth/provider/token'), 2);
      assert.equal(calls(SUMMARIES), 2, 'no request was answered 401 and resent');
    });

    it('re-logs in and resends even a non-idempotent allocate after a 401, once', async () => {
      const c = await connect(provider());
      const id = await publicIps(c);
      const acme = c.forOrg('acme');
      await acme.edgeGateways.list();
      sim.admin.expireSessions();
      const [result] = await acme.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      assert.match(result?.value ?? '', /^203\.0\.113\./);
      const allocates = sim.admin.audit().filter((a) => a.route === ALLOCATE);
      assert.deepEqual(
        allocates.map((a) => a.status),
        [401, 202],
      );
    });

    it('exchanges an API token beside the version negotiation; a password login waits for the version', async () => {
      // VCD never answers the negotiation here: the token exchange was already under way, the
      // password login (which names the version) never starts, and the negotiation's error is the one thrown.
      sim.admin.addFault({ route: 'GET /api/versions', kind: 'status', status: 500 });
      await assert.rejects(VcdClient.connect(provider()), (err: unknown) => err instanceof VcdApiError && err.status === 500);
      await assert.rejects(VcdClient.connect(tenant()), (err: unknown) => err instanceof VcdApiError && err.status === 500);
      assert.equal(calls('POST /oauth/provider/token'), 1);
      assert.equal(calls('POST /cloudapi/1.0.0/sessions'), 0);
    });

    it('refuses wrong credentials with VcdAuthError', async () => {
      await assert.rejects(VcdClient.connect({ ...provider(), auth: { apiToken: 'not-a-valid-token' } }), VcdAuthError);
      await assert.rejects(VcdClient.connect({ ...tenant(), auth: { username: 'acme-admin', password: 'wrong-password' } }), VcdAuthError);
    });
  });

  describe('API versions', () => {
    it('fails fast, without a request, when a pinned version is too old for IP Spaces', async () => {
      const c = await connect({ ...provider(), apiVersion: '37.0' });
      assert.equal(c.apiVersion, '37.0');
      await assert.rejects(
        c.ipSpaces.list(),
        (err: unknown) => err instanceof UnsupportedApiVersionError && err.requiredVersion === '37.1' && err.feature === 'IP Spaces',
      );
      assert.equal(calls(SUMMARIES), 0);
    });

    it('refuses allocate by value below 37.2 and appliedTo below 37.1, naming what is needed', async () => {
      const c = await connect({ ...provider(), apiVersion: '37.1' });
      const id = await publicIps(c);
      await assert.rejects(c.forOrg('acme').ipSpaces.allocate(id, { type: 'FLOATING_IP', value: '203.0.113.77' }), (err: unknown) => {
        assert.ok(err instanceof UnsupportedApiVersionError);
        assert.equal(err.requiredVersion, '37.2');
        assert.match(err.message, /specific IP or prefix \(value\) needs VCD API 37\.2.*uses API 37\.1/);
        return true;
      });
      assert.equal(calls(ALLOCATE), 0);
      const old = await connect({ ...provider(), apiVersion: '37.0' });
      const edge = await edgeId(old);
      await assert.rejects(old.firewall.put(edge, [{ name: 'r', actionValue: 'ALLOW', appliedTo: { id: 'urn:vcloud:network:x' } }]), /appliedTo.*37\.1/);
      assert.equal(calls(FIREWALL_PUT), 0);
    });

    it('refuses a pin the server does not offer', async () => {
      await assert.rejects(VcdClient.connect({ ...provider(), apiVersion: '36.3' }), UnsupportedApiVersionError);
    });
  });

  describe('inventory', () => {
    it('finds organizations and external networks by name, and says so when there is none', async () => {
      const c = await connect(provider());
      const state = sim.admin.state().vcd;
      assert.deepEqual(await c.orgs.findByName('globex'), { id: state.orgs.find((o) => o.name === 'globex')?.id, name: 'globex' });
      assert.deepEqual(await c.externalNetworks.findByName('pg-public'), {
        id: state.externalNetworks.find((n) => n.name === 'pg-public')?.id,
        name: 'pg-public',
      });
      assert.equal(await c.externalNetworks.findByName('no-such-gateway'), undefined);
      assert.equal(await c.orgs.findByName('no-such-org'), undefined);
    });
  });

  describe('IP Spaces', () => {
    it('allocates for an org through the tenant context, marks and releases', async () => {
      const c = await connect(provider());
      const id = await publicIps(c);
      const acme = c.forOrg('acme');
      const [a] = await acme.ipSpaces.allocate(id, { type: 'FLOATING_IP', value: '203.0.113.77' });
      assert.equal(a?.value, '203.0.113.77');
      const got = await acme.ipSpaces.allocations.get(id, a.id);
      assert.equal(got.orgRef?.name, 'acme');
      assert.equal(got.usageState, 'UNUSED');
      const marked = await acme.ipSpaces.allocations.update(id, a.id, { ...got, usageState: 'USED_MANUAL', description: 'vcd-operator:c1/ns/claim/uid' });
      assert.equal(marked.usageState, 'USED_MANUAL');
      const mine = await acme.ipSpaces.allocations.list(id, { type: 'FLOATING_IP', filter: 'usageState==USED_MANUAL' });
      assert.deepEqual(
        mine.map((x) => x.description),
        ['vcd-operator:c1/ns/claim/uid'],
      );
      const ONE = '/cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}';
      const [puts, reads] = [sim.admin.callCount(`PUT ${ONE}`), sim.admin.callCount(`GET ${ONE}`)];
      await acme.ipSpaces.allocations.put(id, a.id, { ...marked, usageState: 'UNUSED', description: '' });
      assert.equal(sim.admin.callCount(`PUT ${ONE}`) - puts, 1);
      assert.equal(sim.admin.callCount(`GET ${ONE}`) - reads, 0, 'put() does not read the allocation back');
      assert.equal((await acme.ipSpaces.allocations.get(id, a.id)).usageState, 'UNUSED');
      assert.equal(await acme.ipSpaces.allocations.delete(id, a.id), true);
      assert.equal(await acme.ipSpaces.allocations.delete(id, a.id), false, 'a second release finds it gone');
      const tenantView = await connect(tenant());
      assert.deepEqual(await tenantView.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' }), []);
    });

    it('creates, updates and deletes an IP Space, returning the entity named by the task Owner', async () => {
      const c = await connect(provider());
      const created = await createPrivateAcme(c);
      assert.match(created.id ?? '', /^urn:vcloud:ipSpace:/);
      assert.equal(created.name, 'private-acme');
      const updated = await c.ipSpaces.update(created.id!, { ...created, description: 'team acme' });
      assert.equal(updated.description, 'team acme');
      assert.equal((await c.ipSpaces.utilization(created.id!)).floatingIPs?.totalCount, '11');
      assert.equal(await c.ipSpaces.delete(created.id!), true);
      await assert.rejects(c.ipSpaces.get(created.id!), VcdNotFoundError);
      assert.equal(await c.ipSpaces.delete(created.id!), false);
    });

    it('reads uplinks, org assignments and floating IP suggestions; sets custom quotas', async () => {
      const c = await connect(provider());
      const id = await publicIps(c);
      const space = await c.ipSpaces.get(id);
      assert.equal(space.ipSpaceRanges?.ipRanges[0]?.startIpAddress, '203.0.113.10');
      const [assignment] = await c.ipSpaces.orgAssignments.list({
        ipSpaceId: id,
        orgId: (await c.forOrg('acme').edgeGateways.get(await edgeId(c))).orgRef?.id,
      });
      assert.ok(assignment?.id);
      const updated = await c.ipSpaces.orgAssignments.update(assignment.id, { floatingIpQuota: 3 });
      assert.equal(updated.customQuotas?.floatingIpQuota, 3);
      const suggestions = await c.forOrg('acme').ipSpaces.floatingIpSuggestions({ gatewayId: await edgeId(c) });
      assert.equal(suggestions[0]?.ipSpaceRef?.id, id);
      const pg = space.id && (await c.ipSpaces.uplinks.list({ externalNetworkId: await externalNetworkId(c) }));
      assert.ok(Array.isArray(pg) && pg.some((u) => u.ipSpaceRef.id === id));
    });

    it('turns a quota refusal from the task into VcdQuotaExceededError', async () => {
      const c = await connect(provider());
      const id = await publicIps(c);
      const orgId = (await c.forOrg('acme').edgeGateways.get(await edgeId(c))).orgRef?.id;
      const [assignment] = await c.ipSpaces.orgAssignments.list({ ipSpaceId: id, orgId });
      await c.ipSpaces.orgAssignments.update(assignment!.id!, { floatingIpQuota: 1 });
      const t = await connect(tenant());
      await t.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      await assert.rejects(t.ipSpaces.allocate(id, { type: 'FLOATING_IP' }), (err: unknown) => {
        assert.ok(err instanceof VcdQuotaExceededError, String(err));
        assert.equal(err.ipSpaceId, id);
        assert.equal(err.allocationType, 'FLOATING_IP');
        assert.match(err.message, /quota of 1/);
        return true;
      });
    });

    it('pages through more than 128 allocations (pageSize 128, following nextPage)', async () => {
      sim.admin.setKnobs({ taskDurationMs: 1 });
      const c = await connect(provider());
      const id = await publicIps(c);
      const acme = c.forOrg('acme');
      const orgId = (await acme.edgeGateways.get(await edgeId(c))).orgRef?.id;
      const [assignment] = await c.ipSpaces.orgAssignments.list({ ipSpaceId: id, orgId });
      await c.ipSpaces.orgAssignments.update(assignment!.id!, { floatingIpQuota: -1 });
      for (let i = 0; i < 27; i++) await acme.ipSpaces.allocate(id, { type: 'FLOATING_IP', quantity: 5 });
      const before = calls('GET /cloudapi/1.0.0/ipSpaces/{id}/allocations');
      const all = await acme.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' });
      assert.equal(all.length, 135);
      assert.equal(new Set(all.map((a) => a.value)).size, 135);
      assert.equal(calls('GET /cloudapi/1.0.0/ipSpaces/{id}/allocations') - before, 2);
    });
  });

  describe('retries', () => {
    it('retries reads on 503, 429 (after Retry-After) and a reset connection', async () => {
      const c = await connect(provider());
      sim.admin.addFault({ route: SUMMARIES, kind: 'status', status: 503, times: 2 });
      assert.equal((await c.ipSpaces.list()).length, 1);
      assert.equal(calls(SUMMARIES), 3);
      sim.admin.addFault({ route: SUMMARIES, kind: 'status', status: 429, retryAfterSeconds: 1, times: 1 });
      const started = Date.now();
      await c.ipSpaces.list();
      assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
      sim.admin.addFault({ route: SUMMARIES, kind: 'drop-after-commit', times: 1 });
      assert.equal((await c.ipSpaces.list()).length, 1);
      assert.equal(calls(SUMMARIES), 7);
    });

    it('gives up after the configured attempts with the typed error', async () => {
      const c = await connect(provider());
      sim.admin.addFault({ route: SUMMARIES, kind: 'status', status: 502 });
      await assert.rejects(c.ipSpaces.list(), (err: unknown) => err instanceof VcdApiError && err.status === 502);
      assert.equal(calls(SUMMARIES), fastRetry.maxAttempts);
    });

    it('never retries allocate after a 5xx or a lost response', async () => {
      const c = await connect(provider());
      const id = await publicIps(c);
      const acme = c.forOrg('acme');
      sim.admin.addFault({ route: ALLOCATE, kind: 'status', status: 500, times: 1 });
      await assert.rejects(acme.ipSpaces.allocate(id, { type: 'FLOATING_IP' }), (err: unknown) => err instanceof VcdApiError && err.status === 500);
      assert.equal(calls(ALLOCATE), 1);
      sim.admin.addFault({ route: ALLOCATE, kind: 'drop-after-commit', times: 1 });
      await assert.rejects(acme.ipSpaces.allocate(id, { type: 'FLOATING_IP' }), (err: unknown) => err instanceof CloudNetworkError && err.outcomeUnknown);
      assert.equal(calls(ALLOCATE), 2);
      // The lost allocation exists: the caller resolves it through its markers, not by allocating again.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await acme.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' })).length, 1);
    });

    it('resends a whole-list firewall PUT whose response was lost, ending with each rule once', async () => {
      const c = await connect(tenant());
      const edge = await edgeId(c);
      await c.firewall.put(edge, [{ name: 'foreign-keep', actionValue: 'ALLOW', comments: 'someone else' }]);
      const current = await c.firewall.get(edge);
      const rules = [...(current.userDefinedRules ?? []), { name: 'ours', actionValue: 'DROP' as const, comments: 'vcd-operator:c1' }];
      sim.admin.addFault({ route: FIREWALL_PUT, kind: 'drop-after-commit', times: 1 });
      sim.admin.addFault({ route: FIREWALL_PUT, kind: 'status', status: 502, times: 1 });
      const stored = await c.firewall.put(edge, rules);
      assert.deepEqual(
        stored.userDefinedRules?.map((r) => r.name),
        ['foreign-keep', 'ours'],
      );
      assert.equal(stored.userDefinedRules?.[0]?.id, current.userDefinedRules?.[0]?.id, 'the foreign rule kept its id');
      // setup PUT, the PUT whose answer was lost, the injected 502, the successful resend; a resend may
      // also meet the lost PUT's task still running and get BUSY_ENTITY (400), which is retried too.
      const statuses = sim.admin
        .audit()
        .filter((e) => e.route.startsWith(FIREWALL_PUT))
        .map((e) => e.status);
      assert.deepEqual(
        statuses.filter((st) => st !== 400),
        [202, 202, 502, 202],
      );
    });

    it('resolves BUSY_ENTITY contention between connections by backing off', async () => {
      const a = await connect(tenant());
      const b = await connect(tenant());
      const edge = await edgeId(a);
      sim.admin.setKnobs({ taskDurationMs: 60 });
      await Promise.all([a.firewall.put(edge, [{ name: 'from-a', actionValue: 'ALLOW' }]), b.firewall.put(edge, [{ name: 'from-b', actionValue: 'ALLOW' }])]);
      const puts = sim.admin.audit().filter((e) => e.route === FIREWALL_PUT);
      assert.ok(
        puts.some((e) => e.status === 400),
        'one PUT met a busy edge',
      );
      assert.equal(puts.filter((e) => e.status === 202).length, 2);
      const names = (await a.firewall.get(edge)).userDefinedRules?.map((r) => r.name);
      assert.equal(names?.length, 1);
    });

    it('serialises writes to one edge inside a client, so VCD never answers BUSY_ENTITY', async () => {
      const c = await connect(tenant());
      const edge = await edgeId(c);
      sim.admin.setKnobs({ taskDurationMs: 40 });
      await Promise.all([1, 2, 3].map((n) => c.firewall.put(edge, [{ name: `r${n}`, actionValue: 'ALLOW' }])));
      assert.deepEqual(
        sim.admin
          .audit()
          .filter((e) => e.route === FIREWALL_PUT)
          .map((e) => e.status),
        [202, 202, 202],
      );
    });

    it('retries an allocate refused with BUSY_ENTITY (refused, so not done), allocating exactly once per call', async () => {
      sim.admin.setKnobs({ serializeIpSpaces: true, taskDurationMs: 60 });
      const a = await connect(tenant());
      const b = await connect(tenant());
      const id = await publicIps(a);
      const [ra, rb] = await Promise.all([a.ipSpaces.allocate(id, { type: 'FLOATING_IP' }), b.ipSpaces.allocate(id, { type: 'FLOATING_IP' })]);
      const statuses = sim.admin
        .audit()
        .filter((e) => e.route === ALLOCATE)
        .map((e) => e.status);
      assert.ok(statuses.includes(400), `one allocate met a busy IP Space (statuses ${statuses.join(',')})`);
      assert.equal(statuses.filter((st) => st === 202).length, 2);
      const all = await a.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' });
      assert.deepEqual(all.map((x) => x.value).sort(), [ra[0]?.value, rb[0]?.value].sort());
    });

    it('sends the allocates of one IP Space one after another, each when the one before is due to end', async () => {
      const { c, id, from } = await serialisedPublicIps();
      const results = await Promise.all([1, 2, 3].map(() => c.ipSpaces.allocate(id, { type: 'FLOATING_IP' })));
      assert.equal(new Set(results.map((r) => r[0]?.value)).size, 3);
      const accepted = sim.admin.audit(from).filter((e) => e.route === ALLOCATE && e.status === 202);
      assert.equal(accepted.length, 3, 'each call allocated exactly once');
      const at = accepted.map((e) => Date.parse(e.at));
      for (let i = 1; i < at.length; i++) assert.ok((at[i] ?? 0) - (at[i - 1] ?? 0) >= 95, `allocate ${i + 1} was sent before allocate ${i} was due to end`);
      const all = await c.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' });
      assert.equal(all.length, 4);
    });

    it('sends an allocate queued behind a late one when that is due, and once more as soon as it ended if VCD was still busy', async () => {
      const { c, id, from } = await serialisedPublicIps();
      sim.admin.addFault({ route: ALLOCATE, kind: 'slow-task', delayMs: 600, times: 1 });
      const started = Date.now();
      let lateEnded = 0;
      const late = c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }).then((r) => ((lateEnded = Date.now()), r));
      const queued = c.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      const [a, b] = await Promise.all([late, queued]);
      assert.notEqual(a[0]?.value, b[0]?.value);
      const sent = sim.admin.audit(from).filter((e) => e.route === ALLOCATE);
      const statuses = sent.map((e) => e.status);
      assert.deepEqual(
        [statuses[0], statuses.at(-1), statuses.filter((st) => st === 202).length],
        [202, 202, 2],
        `the queued allocate went through once (statuses ${statuses.join(',')})`,
      );
      const busy = statuses.filter((st) => st === 400).length;
      assert.ok(busy >= 1 && busy <= 4, `met the busy IP Space, then asked again at most three times before waiting for its end (${busy} BUSY)`);
      const busyAt = Date.parse(sent[1]?.at ?? '');
      assert.ok(busyAt - started < 400, `sent when the late task was due (${busyAt - started} ms), not when it ended (${lateEnded - started} ms)`);
      assert.ok(Date.parse(sent.at(-1)?.at ?? '') >= lateEnded - 50, 'sent again once the late task had ended, not on the busy backoff');
      assert.equal((await c.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' })).length, 3);
    });

    it('asks a busy IP Space again within moments when the allocate before runs a little late, not a read and a round trip later', async () => {
      const { c, id, from } = await serialisedPublicIps({ taskDurationMs: 400, latencyMs: 100 });
      sim.admin.addFault({ route: ALLOCATE, kind: 'slow-task', delayMs: 50, times: 1 });
      let lateEnded = 0;
      const late = c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }).then((r) => ((lateEnded = Date.now()), r));
      const queued = c.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      await Promise.all([late, queued]);
      const sent = sim.admin.audit(from).filter((e) => e.route === ALLOCATE);
      assert.equal(sent.filter((e) => e.status === 202).length, 2, 'each call allocated exactly once');
      assert.ok(
        sent.some((e) => e.status === 400),
        'the queued allocate met the busy IP Space',
      );
      // Waiting for a read to see the late task end, then sending, would reach VCD a 100 ms trip after that read's answer.
      const acceptedAt = Date.parse(sent.at(-1)?.at ?? '');
      assert.ok(acceptedAt < lateEnded + 50, `accepted ${acceptedAt - lateEnded} ms after the late allocate's caller saw it end`);
    });

    it('sends an allocate ahead of reads already waiting for a slot of the connection', async () => {
      sim.admin.setKnobs({ latencyMs: 20 });
      const c = await connect({ ...tenant(), maxInFlight: 1 });
      const id = await publicIps(c);
      const readsDone: number[] = [];
      const reads = Array.from({ length: 6 }, () => c.ipSpaces.list().then(() => void readsDone.push(Date.now())));
      const from = sim.admin.audit().at(-1)?.seq ?? 0;
      await c.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      await Promise.all(reads);
      const sentAt = Date.parse(sim.admin.audit(from).find((e) => e.route === ALLOCATE)?.at ?? '');
      // The read holding the only slot ends first; the five queued before the allocate wait behind it.
      assert.ok(readsDone.filter((t) => t <= sentAt).length <= 1, `${readsDone.filter((t) => t <= sentAt).length} reads went before the allocate`);
    });

    it('learns how long an allocate takes from the first to end in any IP Space, and hands over on that', async () => {
      sim.admin.setKnobs({ serializeIpSpaces: true, taskDurationMs: 100 });
      const other = await createPrivateAcme(await connect(provider()));
      const c = await connect(tenant()); // knows no allocate's duration yet
      const id = await publicIps(c);
      const from = sim.admin.audit().at(-1)?.seq ?? 0;
      // The first allocate of public-ips runs 900 ms; the one queued behind it has no due time yet.
      sim.admin.addFault({ route: ALLOCATE, kind: 'slow-task', delayMs: 800, times: 1 });
      let slowEnded = 0;
      const slow = c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }).then((r) => ((slowEnded = Date.now()), r));
      const queued = c.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      while (!sim.admin.audit(from).some((e) => e.route === ALLOCATE && e.status === 202)) await new Promise((r) => setTimeout(r, 5));
      // A 100 ms allocate in another IP Space ends first and teaches the duration.
      await c.ipSpaces.allocate(other.id ?? '', { type: 'FLOATING_IP' });
      const [a, b] = await Promise.all([slow, queued]);
      assert.notEqual(a[0]?.value, b[0]?.value);
      const sent = sim.admin.audit(from).filter((e) => e.route === ALLOCATE && e.path.includes(encodeURIComponent(id)));
      const statuses = sent.map((e) => e.status);
      assert.deepEqual(
        [statuses[0], statuses[1], statuses.at(-1), statuses.filter((st) => st === 202).length],
        [202, 400, 202, 2],
        `the queued allocate went when the slow one was due by the learnt duration (busy then), and again once it ended (statuses ${statuses.join(',')})`,
      );
      assert.ok(statuses.length <= 6, `at most three quick asks after the first BUSY (statuses ${statuses.join(',')})`);
      assert.ok(Date.parse(sent[1]?.at ?? '') < slowEnded - 300, 'handed over long before the slow task ended');
    });

    it('marks allocations side by side, and retries BUSY_ENTITY where VCD holds the IP Space for them', async () => {
      const c = await connect(tenant());
      const id = await publicIps(c);
      const made = await c.ipSpaces.allocate(id, { type: 'FLOATING_IP', quantity: 3 });
      const mark = (r: { id: string; value: string }, description: string) =>
        c.ipSpaces.allocations.update(id, r.id, { type: 'FLOATING_IP', value: r.value, usageState: 'USED_MANUAL', description });
      sim.admin.setKnobs({ serializeIpSpaces: true, allocationWritesLockIpSpace: false, taskDurationMs: 1000 });
      const seq = sim.admin.audit().length;
      await Promise.all(made.map((r) => mark(r, 'first')));
      // All three PUTs reached VCD while the first one's task still ran: none waited for another.
      const puts = sim.admin
        .audit()
        .slice(seq)
        .filter((e) => e.method === 'PUT')
        .map((e) => Date.parse(e.at));
      assert.equal(puts.length, 3);
      assert.ok(Math.max(...puts) - Math.min(...puts) < 1000, 'the marks were sent side by side');
      sim.admin.setKnobs({ allocationWritesLockIpSpace: true, taskDurationMs: 100 });
      const before = sim.admin.audit().length;
      await Promise.all([...made.map((r) => mark(r, 'second')), c.ipSpaces.allocate(id, { type: 'FLOATING_IP' })]);
      const statuses = sim.admin
        .audit()
        .slice(before)
        .map((e) => e.status);
      assert.ok(statuses.includes(400), 'VCD answered BUSY_ENTITY at least once');
      const all = await c.ipSpaces.allocations.list(id, { type: 'FLOATING_IP' });
      assert.deepEqual(all.filter((a) => a.description === 'second').length, 3);
    });
  });

  describe('tasks', () => {
    it('gives up at the task deadline with the task href, which can be waited for or cancelled later', async () => {
      const c = await connect({ ...tenant(), taskTimeoutMs: 200 });
      const id = await publicIps(c);
      sim.admin.addFault({ route: ALLOCATE, kind: 'slow-task', delayMs: 5_000, times: 1 });
      const err = await c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }).then(
        () => assert.fail('the allocation should time out'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof VcdTaskTimeoutError, String(err));
      assert.match(err.taskHref, /\/api\/task\//);
      await c.tasks.cancel(err.taskHref);
      await assert.rejects(c.tasks.wait(err.taskHref), (e: unknown) => e instanceof VcdTaskError && e.taskStatus === 'aborted');
    });

    it('stops waiting when the caller cancels', async () => {
      const c = await connect(tenant());
      const id = await publicIps(c);
      sim.admin.addFault({ route: ALLOCATE, kind: 'slow-task', delayMs: 5_000, times: 1 });
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('reconcile cancelled')), 100);
      const started = Date.now();
      await assert.rejects(c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }, { signal: ac.signal }), /reconcile cancelled/);
      assert.ok(Date.now() - started < 2_000);
    });

    it('raises VcdTaskError carrying the task Error', async () => {
      const c = await connect(tenant());
      const id = await publicIps(c);
      sim.admin.addFault({ route: ALLOCATE, kind: 'task-error', times: 1 });
      await assert.rejects(
        c.ipSpaces.allocate(id, { type: 'FLOATING_IP' }),
        (err: unknown) => err instanceof VcdTaskError && err.taskStatus === 'error' && err.taskError.message.length > 0,
      );
    });
  });

  describe('errors, TLS and metrics', () => {
    it('maps an unknown id to VcdNotFoundError with the request id', async () => {
      const c = await connect(provider());
      await assert.rejects(c.ipSpaces.get('urn:vcloud:ipSpace:00000000-0000-0000-0000-000000000000'), (err: unknown) => {
        assert.ok(err instanceof VcdNotFoundError);
        assert.equal(err.status, 403);
        assert.equal(err.minorErrorCode, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN');
        assert.ok(err.requestId);
        return true;
      });
    });

    it('refuses a server whose certificate does not chain to the configured CA, without retrying', async () => {
      const { createCA } = await import('../../../src/sim/pki.ts');
      const other = await createCA('some other CA');
      await assert.rejects(VcdClient.connect({ ...provider(), caPem: other.certPem }), TlsVerificationError);
      await assert.rejects(VcdClient.connect({ ...provider(), caPem: undefined }), TlsVerificationError);
      assert.equal(calls('GET /api/versions'), 0);
    });

    it('connects with verification off only when asked, and says so loudly', async () => {
      const log = captureLog('warn');
      const c = await connect({ ...provider(), caPem: undefined, insecureSkipVerify: true, logger: log.logger });
      assert.equal(c.apiVersion, '37.2');
      assert.match(log.text(), /"level":40.*TLS CERTIFICATE VERIFICATION IS DISABLED/);
    });

    it('counts requests and latency by operation and status', async () => {
      const registry = new Registry();
      const c = await connect({ ...tenant(), metrics: registry });
      const id = await publicIps(c);
      await c.ipSpaces.allocate(id, { type: 'FLOATING_IP' });
      const text = await registry.metrics();
      assert.match(text, /vcd_client_requests_total\{operation="ipSpaces\.allocate",status="202"\} 1/);
      assert.match(text, /vcd_client_requests_total\{operation="task\.get",status="200"\} \d+/);
      assert.match(text, /vcd_client_request_duration_seconds_count\{operation="ipSpaces\.list",status="200"\} 1/);
      assert.equal(c.metricsRegistry, registry);
    });
  });

  async function externalNetworkId(c: VcdClient): Promise<string> {
    const edge = await c.edgeGateways.get(await edgeId(c));
    const uplink = edge.edgeGatewayUplinks.find((u) => u.backingType === 'NSXT_TIER0' || u.usingIpSpace);
    assert.ok(uplink?.uplinkId, 'acme-edge has a Tier-0 uplink');
    return uplink.uplinkId;
  }
});
