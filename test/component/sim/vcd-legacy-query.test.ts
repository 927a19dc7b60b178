// The legacy /api surface real clients need besides CloudAPI (org list, org, admin org, VDC,
// /api/admin, the query service, XML errors), the route advertisement sync task, and the knobs for
// what real VCD does not document (static route versions, sync BUSY, uplink org assignments).
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { API, VcdHttp, idByName } from './vcd-http.ts';

const XML = 'application/*+xml;version=37.2';
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name) => ['Org', 'Link', 'Vdc', 'TaskRecord', 'AdminTaskRecord', 'OrgVdcRecord', 'AdminVdcRecord'].includes(name),
});
const parse = (text: string): Record<string, Record<string, unknown>> => parser.parse(text) as Record<string, Record<string, unknown>>;

describe('simulated VCD: legacy API, query service and undocumented behaviour', () => {
  let sim: RunningSim;
  let http: VcdHttp;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let provider: string;
  let acme: string;
  let pg: string;

  before(async () => {
    sim = await startSimulator({ clock: { now: () => now }, knobs: { taskDurationMs: 0 } });
    http = new VcdHttp(sim);
    provider = await http.login('provider');
    acme = await http.login('acme');
    pg = await idByName(http, provider, `${API}/externalNetworks`, 'pg-public');
  });
  after(() => sim.stop());
  afterEach(() => {
    sim.admin.setKnobs({
      taskDurationMs: 0,
      staticRouteVersionObjects: false,
      routeAdvertisementSyncMs: 50,
      routeAdvertisementSyncBusy: false,
      uplinkAssignsExistingEdgeOrgs: true,
    });
    sim.admin.clearFaults();
    now += 60_000;
  });

  it('lists every org to the provider and only its own to a tenant, and answers 403 in XML for the others', async () => {
    const all = parse((await http.send('GET', '/api/org', { token: provider, accept: XML })).text)['OrgList'] as { Org: Array<{ name: string; href: string }> };
    assert.deepEqual(all.Org.map((o) => o.name).sort(), ['System', 'acme', 'globex']);
    const mine = await http.send('GET', '/api/org', { token: acme, accept: XML });
    assert.match(mine.headers['content-type'] ?? '', /^application\/vnd\.vmware\.vcloud\.orgList\+xml;version=37\.2/);
    const own = (parse(mine.text)['OrgList'] as { Org: Array<{ name: string; href: string }> }).Org;
    assert.deepEqual(
      own.map((o) => o.name),
      ['acme'],
    );

    const globexHref = all.Org.find((o) => o.name === 'globex')?.href ?? '';
    const denied = await http.send('GET', new URL(globexHref).pathname, { token: acme, accept: XML });
    assert.equal(denied.status, 403);
    const err = parse(denied.text)['Error'] as Record<string, string>;
    assert.equal(err['minorErrorCode'], 'ACCESS_TO_RESOURCE_IS_FORBIDDEN');
    assert.equal(err['majorErrorCode'], '403');
    assert.equal((await http.send('GET', '/api/org', { accept: XML })).status, 401, 'the legacy API needs a session too');
  });

  it('serves an org with links to its VDCs, the admin org with its VDC list, and the VDC', async () => {
    const list = parse((await http.send('GET', '/api/org', { token: acme, accept: XML })).text)['OrgList'] as { Org: Array<{ href: string }> };
    const orgPath = new URL(list.Org[0]?.href ?? '').pathname;
    const org = (
      parse((await http.send('GET', orgPath, { token: acme, accept: XML })).text)['Org'] as unknown as Array<
        Record<string, unknown> & { Link: Array<{ rel: string; name: string; href: string }> }
      >
    )[0];
    assert.ok(org);
    assert.equal(org['name'], 'acme');
    assert.match(String(org['id']), /^urn:vcloud:org:/);
    assert.equal(org['FullName'], 'ACME Corporation');
    const vdcLink = org.Link.find((l) => l.rel === 'down' && l.name === 'acme-vdc');
    assert.ok(vdcLink);

    const admin = parse((await http.send('GET', orgPath.replace('/api/org/', '/api/admin/org/'), { token: provider, accept: XML })).text)['AdminOrg'] as {
      Vdcs: { Vdc: Array<{ name: string; id: string }> };
    };
    assert.deepEqual(
      admin.Vdcs.Vdc.map((v) => v.name),
      ['acme-vdc'],
    );

    const vdc =
      (
        parse((await http.send('GET', new URL(vdcLink.href).pathname, { token: acme, accept: XML })).text)['Vdc'] as unknown as Array<Record<string, unknown>>
      )[0] ?? {};
    assert.equal(vdc['name'], 'acme-vdc');
    assert.equal(vdc['id'], admin.Vdcs.Vdc[0]?.id);
    const globexVdc = await http.send('GET', new URL(vdcLink.href).pathname, { token: await http.login('globex'), accept: XML });
    assert.equal(globexVdc.status, 403);
  });

  it('reports the VCD version at /api/admin to providers only', async () => {
    const res = await http.send('GET', '/api/admin', { token: provider, accept: XML });
    assert.equal(res.status, 200);
    assert.match(String((parse(res.text)['VCloud'] as Record<string, unknown>)['Description']), /^10\.6\.\d+\.\d+ \w{3} \w{3} \d+ \d{4}/);
    assert.equal((await http.send('GET', '/api/admin', { token: acme, accept: XML })).status, 403);
  });

  it('answers injected faults on /api in XML and on /cloudapi in JSON', async () => {
    sim.admin.addFault({ route: 'GET /api/org', kind: 'status', status: 503, times: 1 });
    const res = await http.send('GET', '/api/org', { token: acme, accept: XML });
    assert.equal(res.status, 503);
    assert.equal((parse(res.text)['Error'] as Record<string, string>)['minorErrorCode'], 'SERVICE_UNAVAILABLE');
    sim.admin.addFault({ route: `GET ${API}/orgs`, kind: 'status', status: 503, times: 1 });
    const json = await http.send('GET', `${API}/orgs`, { token: acme });
    assert.equal((json.body as { minorErrorCode: string }).minorErrorCode, 'SERVICE_UNAVAILABLE');
  });

  it('ends a provider session at DELETE /sessions/provider, the URL govcd logs System users out at', async () => {
    const token = await http.login('provider');
    assert.equal((await http.send('DELETE', `${API}/sessions/provider`, { token })).status, 204);
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token })).status, 401);
  });

  it('queries VDCs by org and name, as govcd finds a VDC', async () => {
    const orgHref =
      (parse((await http.send('GET', '/api/org', { token: acme, accept: XML })).text)['OrgList'] as { Org: Array<{ href: string }> }).Org[0]?.href ?? '';
    // govcd escapes the value once and sends the filter otherwise raw, so the server reads the plain href.
    const filter = `org==${orgHref};orgName==acme;name==acme-vdc`;
    const admin = parse(
      (await http.send('GET', `/api/query?type=adminOrgVdc&filter=${encodeURIComponent(filter)}&filterEncoded=true`, { token: provider, accept: XML })).text,
    )['QueryResultRecords'] as Record<string, unknown> & { AdminVdcRecord: Array<{ href: string; name: string }> };
    assert.equal(admin['total'], '1');
    assert.match(admin.AdminVdcRecord[0]?.href ?? '', /\/api\/admin\/vdc\/[0-9a-f-]{36}$/);
    const tenant = parse((await http.send('GET', `/api/query?type=orgVdc&filter=${encodeURIComponent('name==acme-vdc')}`, { token: acme, accept: XML })).text)[
      'QueryResultRecords'
    ] as { OrgVdcRecord?: Array<{ name: string }> };
    assert.deepEqual(
      tenant.OrgVdcRecord?.map((r) => r.name),
      ['acme-vdc'],
    );
    const other = parse((await http.send('GET', `/api/query?type=orgVdc&filter=${encodeURIComponent('name==globex-vdc')}`, { token: acme, accept: XML })).text)[
      'QueryResultRecords'
    ] as Record<string, unknown>;
    assert.equal(other['total'], '0', 'a tenant does not see other orgs’ VDCs');
    assert.equal((await http.send('GET', '/api/query?type=adminOrgVdc', { token: acme, accept: XML })).status, 403);
    assert.equal((await http.send('GET', '/api/query?type=nope', { token: acme, accept: XML })).status, 400);
  });

  it('queries tasks: a tenant its own org’s, a provider all, in XML or JSON, paged', async () => {
    const edge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    for (let i = 0; i < 3; i++)
      await http.write('POST', `${API}/firewallGroups`, acme, { name: `q${i}`, typeValue: 'IP_SET', ipAddresses: ['10.0.0.1'], ownerRef: { id: edge } });
    const json = await http.send('GET', `/api/query?type=task&filter=${encodeURIComponent('name==firewallGroupCreate')}&pageSize=2`, {
      token: acme,
      accept: 'application/*+json;version=37.2',
    });
    const body = json.body as {
      total: number;
      pageSize: number;
      record: Array<{ _type: string; name: string; status: string; orgName: string; href: string; object: string }>;
      link: Array<{ rel: string; href: string }>;
    };
    assert.equal(body.total, 3);
    assert.equal(body.record.length, 2);
    assert.ok(
      body.record.every(
        (r) => r._type === 'QueryResultTaskRecordType' && r.status === 'success' && r.orgName === 'acme' && r.object.startsWith('urn:vcloud:firewallGroup:'),
      ),
    );
    assert.ok(body.link.some((l) => l.rel === 'nextPage' && l.href.includes('page=2')));
    const task = await http.task(body.record[0]?.href ?? '', acme);
    assert.equal(task.status, 'success', 'a record’s href is the task itself');
    // How a client finds the outcome of a write whose response it lost: by name, object and time.
    const since = async (iso: string): Promise<number> =>
      (
        (
          await http.send('GET', `/api/query?type=task&filter=${encodeURIComponent(`name==firewallGroupCreate;startDate=ge=${iso}`)}`, {
            token: acme,
            accept: 'application/*+json;version=37.2',
          })
        ).body as { total: number }
      ).total;
    assert.equal(await since(new Date(now - 1000).toISOString()), 3);
    assert.equal(await since(new Date(now + 1000).toISOString()), 0);

    const globex = await http.login('globex');
    const none = parse(
      (await http.send('GET', `/api/query?type=task&filter=${encodeURIComponent('name==firewallGroupCreate')}`, { token: globex, accept: XML })).text,
    )['QueryResultRecords'] as Record<string, unknown>;
    assert.equal(none['total'], '0');
    const adminXml = parse(
      (
        await http.send('GET', `/api/query?type=adminTask&filter=${encodeURIComponent('name==firewallGroupCreate;status==success')}`, {
          token: provider,
          accept: XML,
        })
      ).text,
    )['QueryResultRecords'] as { AdminTaskRecord: unknown[] };
    assert.equal(adminXml.AdminTaskRecord.length, 3);
    assert.equal((await http.send('GET', '/api/query?type=adminTask', { token: acme, accept: XML })).status, 403);
  });

  it('runs ipSpaceUplinkRouteAdvertisementSync after uplink writes, visible to providers only; BUSY only when the knob says', async () => {
    sim.admin.setKnobs({ routeAdvertisementSyncMs: 5000 });
    const space = await http.write('POST', `${API}/ipSpaces`, provider, {
      name: 'sync-space',
      type: 'PUBLIC',
      ipSpaceInternalScope: ['192.0.2.0/24'],
      ipSpaceRanges: { ipRanges: [{ startIpAddress: '192.0.2.10', endIpAddress: '192.0.2.20' }], defaultFloatingIpQuota: 5 },
    });
    await http.write('POST', `${API}/ipSpaceUplinks`, provider, { name: 'sync-uplink', externalNetworkRef: { id: pg }, ipSpaceRef: { id: space.owner.id } });
    const running = `/api/query?type=adminTask&filter=${encodeURIComponent('name==ipSpaceUplinkRouteAdvertisementSync;status==running,status==queued')}`;
    const listed = (await http.send('GET', running, { token: provider, accept: 'application/*+json;version=37.2' })).body as {
      record: Array<{ object: string; orgName: string }>;
    };
    assert.deepEqual(
      listed.record.map((r) => [r.object, r.orgName]),
      [[space.owner.id, 'System']],
    );
    const tenantView = (
      await http.send('GET', `/api/query?type=task&filter=${encodeURIComponent('name==ipSpaceUplinkRouteAdvertisementSync')}`, {
        token: acme,
        accept: 'application/*+json;version=37.2',
      })
    ).body as { total: number };
    assert.equal(tenantView.total, 0);

    // Off (the default): the running sync does not hold the IP Space.
    await http.write('POST', `${API}/ipSpaces/${space.owner.id}/allocate`, acme, { type: 'FLOATING_IP', quantity: 1 });

    sim.admin.setKnobs({ routeAdvertisementSyncBusy: true });
    await http.write(
      'PUT',
      `${API}/ipSpaceUplinks/${await idByName(http, provider, `${API}/ipSpaceUplinks?filter=${encodeURIComponent(`externalNetworkRef.id==${pg}`)}`, 'sync-uplink')}`,
      provider,
      { name: 'sync-uplink', description: 'again', externalNetworkRef: { id: pg }, ipSpaceRef: { id: space.owner.id } },
    );
    const busy = await http.send('POST', `${API}/ipSpaces/${space.owner.id}/allocate`, { token: acme, body: { type: 'FLOATING_IP', quantity: 1 } });
    assert.equal(busy.status, 400);
    assert.equal((busy.body as { minorErrorCode: string }).minorErrorCode, 'BUSY_ENTITY');
    assert.match((busy.body as { message: string }).message, /busy completing an operation IP_SPACE_UPLINK_ROUTE_ADVERTISEMENT_SYNC/);
    now += 6000;
    assert.equal(((await http.send('GET', running, { token: provider, accept: 'application/*+json;version=37.2' })).body as { total: number }).total, 0);
    await http.write('POST', `${API}/ipSpaces/${space.owner.id}/allocate`, acme, { type: 'FLOATING_IP', quantity: 1 });
  });

  it('assigns orgs with existing edges to a newly uplinked IP Space unless the knob says otherwise', async () => {
    const assigned = async (spaceId: string): Promise<string[]> => {
      const res = await http.send('GET', `${API}/ipSpaces/orgAssignments?filter=${encodeURIComponent(`ipSpaceRef.id==${spaceId}`)}`, { token: provider });
      return (res.body as { values: Array<{ orgRef: { name: string } }> }).values.map((a) => a.orgRef.name).sort();
    };
    const make = async (name: string): Promise<string> => {
      const s = await http.write('POST', `${API}/ipSpaces`, provider, { name, type: 'PUBLIC', ipSpaceInternalScope: ['198.18.0.0/24'] });
      await http.write('POST', `${API}/ipSpaceUplinks`, provider, { name: `${name}-uplink`, externalNetworkRef: { id: pg }, ipSpaceRef: { id: s.owner.id } });
      return s.owner.id;
    };
    assert.deepEqual(await assigned(await make('assign-on')), ['acme', 'globex']);
    sim.admin.setKnobs({ uplinkAssignsExistingEdgeOrgs: false });
    assert.deepEqual(await assigned(await make('assign-off')), []);
  });

  it('keeps uplink interfaces for 38.0 clients, hidden from older ones and untouched by their writes', async () => {
    const space = await http.write('POST', `${API}/ipSpaces`, provider, { name: 'if-space', type: 'PUBLIC', ipSpaceInternalScope: ['198.19.0.0/24'] });
    const body = { name: 'if-uplink', externalNetworkRef: { id: pg }, ipSpaceRef: { id: space.owner.id }, interfaces: [{ id: 't0-interface-1' }] };
    const up = await http.write('POST', `${API}/ipSpaceUplinks`, provider, body, { version: '38.0' });
    const path = `${API}/ipSpaceUplinks/${up.owner.id}`;
    const at38 = (await http.send('GET', path, { token: provider, version: '38.0' })).body as Record<string, unknown>;
    assert.deepEqual(at38['interfaces'], [{ id: 't0-interface-1' }]);
    const at372 = (await http.send('GET', path, { token: provider })).body as Record<string, unknown>;
    assert.ok(!('interfaces' in at372));
    await http.write('PUT', path, provider, {
      name: 'if-uplink',
      description: 'renamed by an old client',
      externalNetworkRef: { id: pg },
      ipSpaceRef: { id: space.owner.id },
    });
    assert.deepEqual(((await http.send('GET', path, { token: provider, version: '38.0' })).body as Record<string, unknown>)['interfaces'], [
      { id: 't0-interface-1' },
    ]);
  });

  it('serves static routes without a version by default, and the spec’s version object on request', async () => {
    const edge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    const body = { name: 'v-route', networkCidr: '10.77.0.0/16', nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1 }] };
    const task = await http.write('POST', `${API}/edgeGateways/${edge}/routing/staticRoutes`, acme, body);
    const path = `${API}/edgeGateways/${edge}/routing/staticRoutes/${task.details ?? ''}`;
    assert.ok(!('version' in ((await http.send('GET', path, { token: acme })).body as object)));
    await http.write('PUT', path, acme, { ...body, id: task.details, description: 'no version sent' });

    sim.admin.setKnobs({ staticRouteVersionObjects: true });
    const got = (await http.send('GET', path, { token: acme })).body as { version: { version: number } };
    assert.equal(got.version.version, 1);
    const refused = await http.send('PUT', path, { token: acme, body: { ...body, id: task.details } });
    assert.equal(refused.status, 400);
    await http.write('PUT', path, acme, { ...body, id: task.details, version: got.version });
  });
});
