// The simulator as others start it: startSimulator's contract, the default fixture's names, the
// admin API (in-process and over HTTPS) and fixtures given as YAML text.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { scaleFixture, startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { FixtureError, loadFixture } from '../../../src/sim/fixtures/fixture.ts';
import { API, VcdHttp, idByName } from './vcd-http.ts';

describe('simulator: startSimulator, fixture and admin API', () => {
  let sim: RunningSim;
  let http: VcdHttp;
  before(async () => {
    sim = await startSimulator({ knobs: { taskDurationMs: 0 } });
    http = new VcdHttp(sim);
  });
  after(() => sim.stop());
  beforeEach(() => sim.admin.reset());

  const admin = (method: string, path: string, body?: unknown, token = sim.adminToken) =>
    http.send(method, path, {
      accept: 'application/json',
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { body }),
    });

  it('returns the URLs, CA, credentials and names the default fixture promises', async () => {
    assert.match(sim.vcd.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(sim.nsx.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      sim.vcenters.map((v) => v.name),
      ['vc-a', 'vc-b', 'vc-c'],
    );
    assert.equal(await readFile(sim.caFile, 'utf8'), sim.caPem);
    assert.equal(sim.credentials.provider.org, 'System');
    assert.equal(sim.credentials.provider.username, 'administrator');
    assert.deepEqual(
      sim.credentials.tenants.map((t) => `${t.username}@${t.org}`),
      ['acme-admin@acme', 'globex-admin@globex'],
    );
    const state = sim.admin.state().vcd;
    assert.deepEqual(
      state.orgs.map((o) => o.name),
      ['System', 'acme', 'globex'],
    );
    assert.deepEqual(
      state.vdcs.map((v) => v.name),
      ['acme-vdc', 'globex-vdc'],
    );
    assert.deepEqual(
      state.edges.map((e) => [e.name, e.uplinks]),
      [
        ['acme-edge', ['pg-public', 'seg-transit']],
        ['globex-edge', ['pg-public']],
      ],
    );
    assert.deepEqual(
      state.ipSpaces.map((s) => [s.name, s.type, s.ranges]),
      [['public-ips', 'PUBLIC', ['203.0.113.10-203.0.113.250']]],
    );
    assert.deepEqual(state.orgAssignments.map((a) => a.org).sort(), ['acme', 'globex'], 'edges on pg-public made org assignments');
    const space = await http.send('GET', `${API}/ipSpaces/${state.ipSpaces[0]?.id ?? ''}`, { token: await http.login('provider') });
    const body = space.body as {
      ipSpaceExternalScope: string;
      ipSpaceInternalScope: string[];
      ipSpaceRanges: { defaultFloatingIpQuota: number };
      ipSpacePrefixes: Array<{ defaultQuotaForPrefixLength: number; ipPrefixSequence: Array<{ prefixLength: number; totalPrefixCount: number }> }>;
    };
    assert.equal(body.ipSpaceExternalScope, '0.0.0.0/0');
    assert.ok(body.ipSpaceInternalScope.includes('203.0.113.0/24'));
    assert.equal(body.ipSpaceRanges.defaultFloatingIpQuota, 10);
    assert.deepEqual(
      body.ipSpacePrefixes.map((p) => [p.defaultQuotaForPrefixLength, p.ipPrefixSequence[0]?.prefixLength, p.ipPrefixSequence[0]?.totalPrefixCount]),
      [[2, 28, 16]],
    );
  });

  it('backs provider gateways and edges with NSX tier-0 / tier-1 gateways, the segment as a tier-1 interface', () => {
    const objects = sim.admin.state().nsx.objects;
    const tier1s = objects.filter((o) => /^\/infra\/tier-1s\/[^/]+$/.test(o.path));
    assert.ok(objects.some((o) => o.path === '/infra/tier-0s/pg-public-t0'));
    assert.deepEqual(tier1s.map((o) => o['display_name']).sort(), ['acme-edge', 'globex-edge']);
    const acmeT1 = tier1s.find((o) => o['display_name'] === 'acme-edge');
    assert.equal(acmeT1?.['tier0_path'], '/infra/tier-0s/pg-public-t0');
    const iface = objects.find((o) => o.path.startsWith(`${acmeT1?.path ?? ''}/locale-services/`) && o.resource_type === 'Tier1Interface');
    assert.equal(iface?.['segment_path'], '/infra/segments/seg-transit');
  });

  it('keeps ids stable across restarts with the same fixture', async () => {
    const other = await startSimulator();
    try {
      assert.deepEqual(
        other.admin.state().vcd.edges.map((e) => e.id),
        sim.admin.state().vcd.edges.map((e) => e.id),
      );
    } finally {
      await other.stop();
    }
  });

  it('guards /admin/* with its own bearer token', async () => {
    assert.equal((await admin('GET', '/admin/state', undefined, '')).status, 401);
    assert.equal((await admin('GET', '/admin/state', undefined, 'wrong')).status, 401);
    const tenant = await http.login('acme');
    assert.equal((await admin('GET', '/admin/state', undefined, tenant)).status, 401, 'a VCD session is not an admin token');
    assert.equal((await admin('GET', '/admin/state')).status, 200);
  });

  it('dumps state, audit and counters without any credential, and counts only API calls', async () => {
    const acme = await http.login('acme');
    await http.send('POST', '/oauth/tenant/acme/token', {
      accept: '',
      form: { grant_type: 'refresh_token', refresh_token: sim.credentials.tenants[0]?.apiToken ?? '' },
    });
    const edge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    await http.write('POST', `${API}/firewallGroups`, acme, { name: 'audited', typeValue: 'IP_SET', ipAddresses: ['10.1.1.1'], ownerRef: { id: edge } });
    const everything = JSON.stringify([
      (await admin('GET', '/admin/state')).body,
      (await admin('GET', '/admin/audit')).body,
      (await admin('GET', '/admin/counters')).body,
    ]);
    for (const secret of [
      sim.credentials.provider.password,
      sim.credentials.provider.apiToken,
      ...sim.credentials.tenants.flatMap((t) => [t.password, t.apiToken]),
      sim.nsx.password,
      acme,
    ]) {
      assert.ok(!everything.includes(secret), 'no password, API token or session token leaks through the admin API');
    }
    const audit = sim.admin.audit();
    assert.deepEqual(
      audit.map((e) => e.route),
      ['POST /cloudapi/1.0.0/sessions', 'POST /oauth/tenant/{org}/token', 'POST /cloudapi/1.0.0/firewallGroups'],
    );
    assert.deepEqual(audit[1]?.body, { grant_type: 'refresh_token', refresh_token: '***' });
    assert.equal(sim.admin.callCount('POST /cloudapi/1.0.0/firewallGroups'), 1);
    assert.equal(sim.admin.callCount('GET /admin/state'), 0, 'admin calls are not counted');
  });

  it('adds and clears faults and changes knobs over HTTP', async () => {
    const added = await admin('POST', '/admin/faults', { route: 'GET /cloudapi/1.0.0/orgs', kind: 'status', status: 500, times: 1 });
    assert.equal(added.status, 200);
    assert.equal((await admin('POST', '/admin/faults', { route: 'nonsense', kind: 'status', status: 500 })).status, 400);
    const provider = await http.login('provider');
    assert.equal((await http.send('GET', `${API}/orgs`, { token: provider })).status, 500);
    assert.equal((await http.send('GET', `${API}/orgs`, { token: provider })).status, 200);
    await admin('POST', '/admin/faults', { route: 'GET /cloudapi/1.0.0/orgs', kind: 'status', status: 503 });
    assert.equal((await admin('DELETE', '/admin/faults')).status, 204);
    assert.equal((await http.send('GET', `${API}/orgs`, { token: provider })).status, 200);

    const knobs = await admin('PATCH', '/admin/knobs', { taskDurationMs: 25, providerBypassesQuota: true });
    assert.equal((knobs.body as { taskDurationMs: number }).taskDurationMs, 25);
    assert.equal(sim.admin.knobs().providerBypassesQuota, true);
    assert.equal((await admin('PATCH', '/admin/knobs', { latencyMs: 'slow' })).status, 400);
    sim.admin.setKnobs({ taskDurationMs: 0, providerBypassesQuota: false });
  });

  it('resets state to the fixture and expires sessions on request', async () => {
    const acme = await http.login('acme');
    const edge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    await http.write('POST', `${API}/firewallGroups`, acme, { name: 'temp', typeValue: 'IP_SET', ipAddresses: ['10.1.1.1'], ownerRef: { id: edge } });
    assert.equal(sim.admin.state().vcd.firewallGroups.length, 1);
    const expired = await admin('POST', '/admin/sessions/expire');
    assert.ok((expired.body as { expired: number }).expired >= 1);
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: acme })).status, 401);
    assert.equal((await admin('POST', '/admin/reset')).status, 204);
    assert.equal(sim.admin.state().vcd.firewallGroups.length, 0);
    assert.deepEqual(sim.admin.audit(), []);
  });

  it('reports whether one vCenter trusts another (what a cross-vCenter vMotion needs)', async () => {
    const res = await admin('GET', '/admin/vcenters/vc-a/trusts/vc-b');
    assert.deepEqual(Object.keys(res.body as object).sort(), ['fault', 'thumbprint', 'trusted']);
    assert.equal((res.body as { trusted: boolean; fault: string }).fault, 'SSLVerifyFault');
    assert.equal((await admin('GET', '/admin/vcenters/vc-a/trusts/vc-z')).status, 400);
  });

  it('renews a vCenter VMCA in three steps: a new root beside the old, then served, then the old one retired', async () => {
    const { VCenterClient } = await import('../../../src/clients/vcenter/index.ts');
    const vc = sim.vcenters.find((v) => v.name === 'vc-b');
    assert.ok(vc);
    const firstCa = vc.caPem;
    const login = (caPem: string) => VCenterClient.connect({ url: vc.url, username: vc.username, password: vc.password, caPem, retry: { maxAttempts: 1 } });
    const renewed = await admin('POST', '/admin/vcenters/vc-b/vmca/renew');
    const newRoot = (renewed.body as { root: string }).root;
    assert.match(newRoot, /BEGIN CERTIFICATE/);
    const state = () => sim.admin.state().vcenters.find((v) => v.name === 'vc-b');
    assert.equal(state()?.trustedRoots.length, 2, 'old and new VMCA root both trusted');
    const c1 = await login(firstCa);
    assert.equal(new X509Certificate((await c1.tls()).cert).checkIssued(new X509Certificate(firstCa)), true, 'still serving from the old root');
    await c1.close();
    await admin('POST', '/admin/vcenters/vc-b/vmca/switch');
    await assert.rejects(login(firstCa), /TLS verification failed/);
    const c2 = await login(vc.caPem);
    assert.equal(new X509Certificate((await c2.tls()).cert).checkIssued(new X509Certificate(newRoot)), true, 'now serving from the new root');
    await admin('POST', '/admin/vcenters/vc-b/vmca/retire');
    assert.deepEqual(await c2.trustedRootChains.list(), [state()?.trustedRoots[0]?.chain]);
    assert.equal(state()?.trustedRoots.length, 1);
    await c2.close();
    assert.equal((await admin('POST', '/admin/vcenters/vc-b/vmca/explode')).status, 400);
    sim.admin.reset();
    const c3 = await login(firstCa);
    await c3.close();
  });

  it('starts from a fixture given as YAML text, and removes its CA file on stop', async () => {
    const small = `
provider: { org: System, username: root, password: pw-root-1, apiToken: tok-root-1 }
orgs:
  - { name: solo, vdcs: [solo-vdc], users: [{ username: solo-admin, password: pw-solo-1, apiToken: tok-solo-1 }] }
externalNetworks:
  - { name: pg, kind: TIER0, usingIpSpace: true }
ipSpaces:
  - { name: tiny, type: PUBLIC, internalScope: [192.0.2.0/29], ranges: [{ start: 192.0.2.1, end: 192.0.2.6 }], uplinks: [{ name: u, externalNetwork: pg }] }
edges:
  - { name: solo-edge, org: solo, vdc: solo-vdc, uplinks: [{ externalNetwork: pg }] }
nsx: { username: admin, password: pw-nsx-1 }
vcenters: []
`;
    const s = await startSimulator({ fixture: small });
    try {
      assert.deepEqual(
        s.credentials.tenants.map((t) => t.org),
        ['solo'],
      );
      assert.deepEqual(s.vcenters, []);
      assert.deepEqual(
        s.admin.state().vcd.orgAssignments.map((a) => `${a.org}/${a.ipSpace}`),
        ['solo/tiny'],
      );
    } finally {
      await s.stop();
    }
    assert.equal(existsSync(s.caFile), false);
  });

  it('builds a benchmark fixture with N more unquota’d IP Spaces on pg-public, keeping the default names', async () => {
    const s = await startSimulator({ fixture: scaleFixture(10), knobs: { taskDurationMs: 0 } });
    try {
      const state = s.admin.state().vcd;
      assert.equal(state.ipSpaces.length, 11);
      assert.deepEqual(
        state.edges.map((e) => e.name),
        ['acme-edge', 'globex-edge'],
      );
      const h = new VcdHttp(s);
      const token = await h.login('acme');
      const space = await idByName(h, token, `${API}/ipSpaces/summaries`, 'scale-ips-9');
      for (let i = 0; i < 3; i++)
        assert.equal((await h.write('POST', `${API}/ipSpaces/${space}/allocate`, token, { type: 'FLOATING_IP', quantity: 5 })).status, 'success', 'no quota');
    } finally {
      await s.stop();
    }
  });

  it('refuses fixtures with dangling names, clearly', () => {
    const base = loadFixture();
    const text = (patch: (f: typeof base) => void): string => {
      const f = structuredClone(base);
      patch(f);
      return `${JSON.stringify(f)}\n`;
    };
    assert.throws(() => loadFixture(text((f) => void (f.edges[0] = { ...f.edges[0], org: 'nobody' } as (typeof f.edges)[0]))), FixtureError);
    assert.throws(() => loadFixture(text((f) => void (f.edges[0] = { ...f.edges[0], uplinks: [] } as unknown as (typeof f.edges)[0]))), /exactly one TIER0/);
    assert.throws(() => loadFixture(text((f) => void f.orgs.push({ ...(f.orgs[0] as (typeof f.orgs)[0]) }))), /declared twice/);
    assert.throws(() => loadFixture('a: [\n'), /not valid YAML/);
  });
});
