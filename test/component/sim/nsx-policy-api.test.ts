import assert from 'node:assert/strict';
import { request } from 'node:https';
import { SimCore, serveRoutes, type ServedRoutes } from '../../../src/sim/core/index.ts';
import { createNsxService, type NsxService } from '../../../src/sim/nsx/index.ts';
import { createCA } from '../../../src/sim/pki.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const BASIC = `Basic ${Buffer.from('admin:s3cret-pass').toString('base64')}`;
const T1 = '/policy/api/v1/infra/tier-1s';
const POLICY = '/policy/api/v1/infra/domains/default/gateway-policies';

describe('sim NSX Policy API over HTTPS', () => {
  let caPem: string;
  let served: ServedRoutes;
  let nsx: NsxService;
  let core: SimCore;
  const clock = {
    t: Date.parse('2026-06-01T00:00:00Z'),
    now(): number {
      return this.t;
    },
  };

  function call(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; form?: string } = {}): Promise<Reply> {
    const payload = opts.form ?? (opts.body === undefined ? '' : JSON.stringify(opts.body));
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (payload) headers['content-type'] = opts.form ? 'application/x-www-form-urlencoded' : 'application/json';
    return new Promise((resolve, reject) => {
      const req = request(`${served.url}${path}`, { method, headers, ca: caPem }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
  const basic = (method: string, path: string, body?: unknown): Promise<Reply> => call(method, path, { body, headers: { authorization: BASIC } });
  const obj = (r: Reply): Record<string, unknown> => r.body as Record<string, unknown>;

  before(async () => {
    const ca = await createCA('nsx test CA');
    caPem = ca.certPem;
    const tls = await ca.issueServer({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    core = new SimCore({ clock });
    nsx = createNsxService({ username: 'admin', password: 's3cret-pass', clock });
    served = await serveRoutes({ service: 'nsx', instance: 'nsx', routes: nsx.routes, tls, core, notFound: nsx.notFound, faultBody: nsx.faultBody });
  });
  after(() => served.close());
  beforeEach(() => {
    nsx.reset();
    core.resetObservations();
    nsx.ensureTier0('provider-t0', 'Provider T0');
    nsx.ensureTier1('edge-1', 'edge-1', '/infra/tier-0s/provider-t0');
  });

  describe('authentication', () => {
    it('accepts Basic auth and refuses a wrong password with the NSX error body', async () => {
      assert.equal((await basic('GET', T1)).status, 200);
      const bad = await call('GET', T1, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
      assert.equal(bad.status, 403);
      assert.deepEqual(obj(bad), {
        httpStatus: 'FORBIDDEN',
        error_code: 403,
        module_name: 'common-services',
        error_message: 'The credentials were incorrect or the account specified has been locked.',
      });
      assert.equal((await call('GET', T1)).status, 403);
    });

    it('runs a session on JSESSIONID + X-XSRF-TOKEN and refuses a missing or wrong token with error 98', async () => {
      const login = await call('POST', '/api/session/create', { form: 'j_username=admin&j_password=s3cret-pass' });
      assert.equal(login.status, 200);
      const xsrf = login.headers['x-xsrf-token'] as string;
      const setCookie = (login.headers['set-cookie'] ?? []) as string[];
      assert.match(xsrf, /^[0-9a-f-]{36}$/);
      assert.match(setCookie[0] ?? '', /^JSESSIONID=[0-9A-F]+; Path=\/; Secure; HttpOnly/);
      const cookie = (setCookie[0] ?? '').split(';')[0] as string;

      assert.equal((await call('GET', T1, { headers: { cookie, 'x-xsrf-token': xsrf } })).status, 200);
      const wrong: Array<Record<string, string>> = [{ cookie }, { cookie, 'x-xsrf-token': 'f00' }];
      for (const headers of wrong) {
        const r = await call('GET', T1, { headers });
        assert.equal(r.status, 403);
        assert.equal(obj(r).error_code, 98);
      }
      assert.equal(nsx.state().sessions, 1);
      assert.equal((await call('POST', '/api/session/destroy', { headers: { cookie, 'x-xsrf-token': xsrf } })).status, 200);
      const after = await call('GET', T1, { headers: { cookie, 'x-xsrf-token': xsrf } });
      assert.equal(after.status, 403);
      assert.equal(obj(after).error_code, 403);
      assert.equal(nsx.state().sessions, 0);
    });

    it('refuses a bad login and expires idle sessions', async () => {
      const bad = await call('POST', '/api/session/create', { form: 'j_username=admin&j_password=wrong' });
      assert.equal(bad.status, 403);
      assert.equal(bad.headers['x-xsrf-token'], undefined);

      const login = await call('POST', '/api/session/create', { form: 'j_username=admin&j_password=s3cret-pass' });
      const headers = {
        cookie: ((login.headers['set-cookie'] as string[])[0] ?? '').split(';')[0] as string,
        'x-xsrf-token': login.headers['x-xsrf-token'] as string,
      };
      clock.t += 29 * 60_000;
      assert.equal((await call('GET', T1, { headers })).status, 200);
      clock.t += 31 * 60_000;
      const expired = await call('GET', T1, { headers });
      assert.equal(expired.status, 403);
      assert.equal(obj(expired).error_code, 403);
    });

    it('keeps the password out of the audit log', async () => {
      await call('POST', '/api/session/create', { form: 'j_username=admin&j_password=s3cret-pass' });
      const audit = JSON.stringify(core.audit());
      assert.ok(audit.includes('/api/session/create'));
      assert.ok(!audit.includes('s3cret-pass'));
    });
  });

  describe('_revision', () => {
    it('answers 412 PRECONDITION_FAILED to a stale or missing _revision and keeps the object', async () => {
      assert.equal((await basic('PATCH', `${T1}/t1-a`, { display_name: 'a', tier0_path: '/infra/tier-0s/provider-t0' })).status, 200);
      const v0 = obj(await basic('GET', `${T1}/t1-a`));
      assert.equal(v0._revision, 0);
      assert.equal(v0.path, '/infra/tier-1s/t1-a');

      const put = await basic('PUT', `${T1}/t1-a`, { ...v0, display_name: 'b' });
      assert.equal(put.status, 200);
      assert.equal(obj(put)._revision, 1);
      assert.equal(obj(put).display_name, 'b');

      for (const body of [{ ...v0, display_name: 'stale' }, { display_name: 'no revision' }]) {
        const stale = await basic('PUT', `${T1}/t1-a`, body);
        assert.equal(stale.status, 412);
        assert.equal(obj(stale).httpStatus, 'PRECONDITION_FAILED');
        assert.equal(obj(stale).module_name, 'Policy');
      }
      const stalePatch = await basic('PATCH', `${T1}/t1-a`, { display_name: 'stale', _revision: 0 });
      assert.equal(stalePatch.status, 412);
      const now = obj(await basic('GET', `${T1}/t1-a`));
      assert.equal(now.display_name, 'b');
      assert.equal(now._revision, 1);

      // PATCH without _revision merges and bumps; fields it does not name stay.
      assert.equal((await basic('PATCH', `${T1}/t1-a`, { description: 'd' })).status, 200);
      const merged = obj(await basic('GET', `${T1}/t1-a`));
      assert.deepEqual([merged.display_name, merged.description, merged._revision], ['b', 'd', 2]);
    });

    it('ignores server-owned fields a client sends', async () => {
      await basic('PATCH', `${T1}/t1-b`, { path: '/infra/elsewhere', _create_user: 'mallory', _protection: 'PROTECTED' });
      const got = obj(await basic('GET', `${T1}/t1-b`));
      assert.deepEqual([got.path, got._create_user, got._protection], ['/infra/tier-1s/t1-b', 'admin', 'NOT_PROTECTED']);
    });
  });

  describe('gateway policies and rules', () => {
    const rule = (id: string, seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      id,
      action: 'ALLOW',
      sequence_number: seq,
      source_groups: ['ANY'],
      destination_groups: ['10.1.0.0/24'],
      services: ['ANY'],
      scope: ['/infra/tier-1s/edge-1'],
      ...extra,
    });

    it('stores embedded rules in sequence order with system rule ids', async () => {
      const r = await basic('PATCH', `${POLICY}/edge-1-fw`, { category: 'LocalGatewayRules', rules: [rule('b', 20), rule('a', 10)] });
      assert.equal(r.status, 200);
      const policy = obj(await basic('GET', `${POLICY}/edge-1-fw`));
      const rules = policy.rules as Array<Record<string, unknown>>;
      assert.deepEqual(
        rules.map((x) => x.id),
        ['a', 'b'],
      );
      assert.equal(policy.rule_count, 2);
      assert.ok(rules.every((x) => typeof x.rule_id === 'number' && x.direction === 'IN_OUT' && x.ip_protocol === 'IPV4_IPV6'));
      const listed = obj(await basic('GET', `${POLICY}/edge-1-fw/rules`));
      assert.equal(listed.result_count, 2);
    });

    it('requires a scope of existing gateway or interface paths and rejects the whole write otherwise', async () => {
      const noScope = await basic('PATCH', `${POLICY}/p`, { rules: [rule('ok', 1), rule('bad', 2, { scope: [] })] });
      assert.equal(noScope.status, 400);
      assert.equal(obj(noScope).httpStatus, 'BAD_REQUEST');
      const unknown = await basic('PATCH', `${POLICY}/p`, { rules: [rule('x', 1, { scope: ['/infra/tier-1s/nope'] })] });
      assert.equal(unknown.status, 400);
      assert.equal(obj(unknown).error_code, 500012);
      assert.equal(obj(unknown).error_message, 'The path=[/infra/tier-1s/nope] is invalid');
      const anyMixed = await basic('PATCH', `${POLICY}/p`, { rules: [rule('x', 1, { source_groups: ['ANY', '10.0.0.1'] })] });
      assert.equal(anyMixed.status, 400);
      // Nothing of the rejected writes was stored, not even the valid rule or the policy.
      assert.equal((await basic('GET', `${POLICY}/p`)).status, 404);

      nsx.addTier1Interface('edge-1', 'svc-1', { segmentPath: '/infra/segments/ext', subnets: [{ ip_addresses: ['192.0.2.1'], prefix_len: 24 }] });
      const onIface = await basic('PATCH', `${POLICY}/p`, {
        rules: [rule('x', 1, { scope: ['/infra/tier-1s/edge-1/locale-services/default/interfaces/svc-1'] })],
      });
      assert.equal(onIface.status, 200);
    });

    it('makes a PUT of a policy with rules state the whole rule set', async () => {
      await basic('PATCH', `${POLICY}/p`, { rules: [rule('a', 1), rule('b', 2), rule('c', 3)] });
      const current = obj(await basic('GET', `${POLICY}/p`));
      const put = await basic('PUT', `${POLICY}/p`, { ...current, rules: [rule('c', 1), rule('a', 2)] });
      assert.equal(put.status, 200);
      assert.deepEqual(
        (obj(put).rules as Array<{ id: string }>).map((x) => x.id),
        ['c', 'a'],
      );
      assert.equal((await basic('GET', `${POLICY}/p/rules/b`)).status, 404);
    });

    it('refuses to delete a gateway that a rule is scoped to', async () => {
      await basic('PATCH', `${POLICY}/p`, { rules: [rule('a', 1)] });
      const del = await basic('DELETE', `${T1}/edge-1`);
      assert.equal(del.status, 400);
      assert.equal(obj(del).error_code, 500030);
      assert.equal((await basic('DELETE', `${POLICY}/p`)).status, 200);
      assert.equal((await basic('GET', `${POLICY}/p/rules/a`)).status, 404);
      assert.equal((await basic('DELETE', `${T1}/edge-1`)).status, 200);
    });
  });

  describe('tier-0 routing', () => {
    const T0 = '/policy/api/v1/infra/tier-0s/provider-t0';
    const PL = '/infra/tier-0s/provider-t0/prefix-lists/IP-SPACES';
    const RM = '/infra/tier-0s/provider-t0/route-maps/IP-SPACES';

    it('chains prefix list, route map and redistribution, and guards references', async () => {
      const early = await basic('PATCH', `${T0}/route-maps/IP-SPACES`, { entries: [{ action: 'PERMIT', prefix_list_matches: [PL] }] });
      assert.equal(early.status, 400);
      assert.equal(obj(early).error_code, 500012);

      const badPrefix = await basic('PATCH', `${T0}/prefix-lists/IP-SPACES`, { prefixes: [{ network: '203.0.113.0/33', action: 'PERMIT' }] });
      assert.equal(badPrefix.status, 400);
      assert.equal(
        (await basic('PATCH', `${T0}/prefix-lists/IP-SPACES`, { prefixes: [{ network: '203.0.113.0/24', action: 'PERMIT', le: 32 }, { action: 'DENY' }] }))
          .status,
        200,
      );
      assert.deepEqual((obj(await basic('GET', `${T0}/prefix-lists/IP-SPACES`)).prefixes as Array<{ network: string }>)[1]?.network, 'ANY');
      assert.equal((await basic('PATCH', `${T0}/route-maps/IP-SPACES`, { entries: [{ action: 'PERMIT', prefix_list_matches: [PL] }] })).status, 200);
      const redistribution = {
        route_redistribution_config: {
          bgp_enabled: true,
          redistribution_rules: [{ name: 'IP-SPACES', route_redistribution_types: ['TIER1_CONNECTED', 'TIER1_NAT'], route_map_path: RM }],
        },
      };
      assert.equal((await basic('PATCH', `${T0}/locale-services/default`, redistribution)).status, 200);
      const ls = obj(await basic('GET', `${T0}/locale-services/default`));
      assert.deepEqual(ls.route_redistribution_config, redistribution.route_redistribution_config);

      const inUse = await basic('DELETE', `${T0}/prefix-lists/IP-SPACES`);
      assert.equal(inUse.status, 400);
      assert.equal(obj(inUse).error_code, 500030);
      const badType = await basic('PATCH', `${T0}/locale-services/default`, {
        route_redistribution_config: { redistribution_rules: [{ route_redistribution_types: ['TIER1_STATIC_ROUTES'] }] },
      });
      assert.equal(badType.status, 400);
    });
  });

  describe('interface statistics', () => {
    it('advances counters with simulated traffic and agrees between per-node and summary', async () => {
      const path = nsx.addTier0Interface('provider-t0', 'uplink-1', {
        segmentPath: '/infra/segments/uplink',
        subnets: [{ ip_addresses: ['198.51.100.2'], prefix_len: 24 }],
        edgePath: '/infra/sites/default/enforcement-points/default/edge-clusters/ec/edge-nodes/1',
      });
      nsx.setTrafficRate(path, { rxBytesPerSecond: 1000, txBytesPerSecond: 500 });
      const url = `/policy/api/v1${path}/statistics`;
      const first = obj(await basic('GET', url));
      const node0 = (first.per_node_statistics as Array<{ rx: { total_bytes: number }; last_update_timestamp: number; transport_node_id: string }>)[0];
      assert.ok(node0);
      clock.t += 10_000;
      const second = obj(await basic('GET', url));
      const node1 = (
        second.per_node_statistics as Array<{
          rx: { total_bytes: number; total_packets: number };
          tx: { total_bytes: number };
          last_update_timestamp: number;
          transport_node_id: string;
        }>
      )[0];
      assert.ok(node1);
      assert.equal(node1.rx.total_bytes - node0.rx.total_bytes, 10_000);
      assert.equal(node1.last_update_timestamp - node0.last_update_timestamp, 10_000);
      assert.equal(node1.transport_node_id, node0.transport_node_id);

      nsx.addTraffic(path, { rxBytes: 5, rxDroppedPackets: 2 });
      const summary = obj(await basic('GET', `${url}/summary`));
      const rx = summary.rx as { total_bytes: number; dropped_packets: number };
      assert.equal(rx.total_bytes, node1.rx.total_bytes + 5);
      assert.equal(rx.dropped_packets, 2);
      assert.equal(summary.interface_policy_path, path);

      const missing = await basic('GET', '/policy/api/v1/infra/tier-0s/provider-t0/locale-services/default/interfaces/nope/statistics');
      assert.equal(missing.status, 404);
      assert.equal(obj(missing).httpStatus, 'NOT_FOUND');
    });
  });

  describe('backings and errors', () => {
    it('shows VCD backings and does not bump revisions when nothing changed', async () => {
      nsx.ensureTier1('edge-1', 'edge-1', '/infra/tier-0s/provider-t0');
      const t1 = obj(await basic('GET', `${T1}/edge-1`));
      assert.deepEqual([t1._revision, t1.tier0_path], [0, '/infra/tier-0s/provider-t0']);
      const list = obj(await basic('GET', `${T1}/edge-1/locale-services`));
      assert.deepEqual(
        (list.results as Array<{ id: string }>).map((x) => x.id),
        ['default'],
      );
    });

    it('pages lists with a cursor until result_count', async () => {
      for (let i = 0; i < 5; i++) nsx.ensureTier1(`e${i}`, `e${i}`);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const r = obj(await basic('GET', `${T1}?page_size=2${cursor ? `&cursor=${cursor}` : ''}`));
        seen.push(...(r.results as Array<{ id: string }>).map((x) => x.id));
        assert.equal(r.result_count, 6);
        cursor = r.cursor as string | undefined;
      } while (cursor);
      assert.deepEqual(seen, ['e0', 'e1', 'e2', 'e3', 'e4', 'edge-1']);
    });

    it('answers unknown paths and injected faults with NSX error bodies', async () => {
      const missing = await basic('GET', '/policy/api/v1/infra/nothing-here');
      assert.equal(missing.status, 404);
      assert.equal(obj(missing).httpStatus, 'NOT_FOUND');
      core.addFault({ route: 'PATCH /policy/api/v1/infra/tier-1s/{id}', service: 'nsx', kind: 'status', status: 503, times: 1 });
      const fault = await basic('PATCH', `${T1}/t`, {});
      assert.equal(fault.status, 503);
      assert.equal(obj(fault).httpStatus, 'SERVICE_UNAVAILABLE');
      assert.equal(obj(fault).error_code, 503, 'not a code clients read as bad XSRF or retriable abort');
      assert.equal((await basic('GET', `${T1}/t`)).status, 404);
      assert.equal((await basic('PATCH', `${T1}/t`, {})).status, 200);
    });
  });
});
