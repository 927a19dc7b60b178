// Logins, tokens, versions and tasks of the simulated VCD: the contract every client call rests on.
import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { API, VcdHttp, idByName, parseTaskXml } from './vcd-http.ts';

describe('simulated VCD: authentication, versions and tasks', () => {
  let sim: RunningSim;
  let http: VcdHttp;
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = { now: () => now };

  before(async () => {
    sim = await startSimulator({ clock, knobs: { taskDurationMs: 1000 } });
    http = new VcdHttp(sim);
  });
  after(() => sim.stop());

  it('serves /api/versions without authentication, listing 37.0 to 39.0', async () => {
    const res = await http.send('GET', '/api/versions', { accept: 'application/*+xml' });
    assert.equal(res.status, 200);
    for (const v of ['37.0', '37.1', '37.2', '38.0', '38.1', '39.0']) assert.match(res.text, new RegExp(`<Version>${v.replace('.', '\\.')}</Version>`));
    // From API 36.0 VCD advertises the CloudAPI session endpoints; govcd v3 logs in at LoginUrl.
    assert.doesNotMatch(res.text, /\/api\/sessions</);
    assert.match(res.text, /<LoginUrl>https:\/\/127\.0\.0\.1:\d+\/cloudapi\/1\.0\.0\/sessions<\/LoginUrl>/);
    assert.match(res.text, /<ProviderLoginUrl>https:\/\/127\.0\.0\.1:\d+\/cloudapi\/1\.0\.0\/sessions\/provider<\/ProviderLoginUrl>/);
  });

  it('logs tenants in at /sessions and the provider at /sessions/provider, and refuses the other way round', async () => {
    const basic = (u: string, p: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const ok = await http.send('POST', `${API}/sessions`, { headers: basic('acme-admin@acme', 'sim-Acme-pw1') });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-vmware-vcloud-token-type'], 'Bearer');
    assert.ok((ok.headers['x-vmware-vcloud-access-token'] ?? '').length > 32);
    assert.equal((ok.body as { org: { name: string } }).org.name, 'acme');

    assert.equal((await http.send('POST', `${API}/sessions`, { headers: basic('acme-admin@acme', 'wrong') })).status, 401);
    assert.equal((await http.send('POST', `${API}/sessions`, { headers: basic('administrator@System', 'sim-Provider-pw1') })).status, 401);
    assert.equal((await http.send('POST', `${API}/sessions/provider`, { headers: basic('acme-admin@acme', 'sim-Acme-pw1') })).status, 401);
    const prov = await http.send('POST', `${API}/sessions/provider`, { headers: basic('administrator@system', 'sim-Provider-pw1') });
    assert.equal(prov.status, 200, 'the org name is matched case-insensitively');
  });

  it('accepts the bearer scheme in any case and govcd’s extra token header', async () => {
    const token = await http.login('acme');
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await http.send('GET', `${API}/sessions/current`, { headers: { authorization: `${scheme} ${token}` } });
      assert.equal(res.status, 200, scheme);
    }
    const viaHeader = await http.send('GET', `${API}/sessions/current`, {
      headers: { 'x-vmware-vcloud-access-token': token, 'x-vmware-vcloud-token-type': 'Bearer' },
    });
    assert.equal(viaHeader.status, 200);
    assert.equal((await http.send('GET', `${API}/sessions/current`)).status, 401);
  });

  it('ends the session on DELETE /sessions/current', async () => {
    const token = await http.login('globex');
    assert.equal((await http.send('DELETE', `${API}/sessions/current`, { token })).status, 204);
    const after = await http.send('GET', `${API}/sessions/current`, { token });
    assert.equal(after.status, 401);
    assert.equal((after.body as { minorErrorCode: string }).minorErrorCode, 'UNAUTHORIZED');
  });

  it('exchanges API tokens for access tokens at /oauth/provider/token and /oauth/tenant/{org}/token without an Accept header', async () => {
    const tenant = await http.send('POST', '/oauth/tenant/acme/token', {
      accept: '',
      form: { grant_type: 'refresh_token', refresh_token: sim.credentials.tenants[0]?.apiToken ?? '' },
    });
    assert.equal(tenant.status, 200, tenant.text);
    const body = tenant.body as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    const me = await http.send('GET', `${API}/sessions/current`, { token: body.access_token });
    assert.equal((me.body as { user: { name: string } }).user.name, 'acme-admin');

    const provider = await http.send('POST', '/oauth/provider/token', {
      accept: '',
      form: { grant_type: 'refresh_token', refresh_token: sim.credentials.provider.apiToken },
    });
    assert.equal(provider.status, 200);
    // A tenant token is not valid at another org's endpoint, nor at the provider's.
    const wrongOrg = await http.send('POST', '/oauth/tenant/globex/token', {
      accept: '',
      form: { grant_type: 'refresh_token', refresh_token: sim.credentials.tenants[0]?.apiToken ?? '' },
    });
    assert.equal(wrongOrg.status, 400);
    assert.equal((wrongOrg.body as { error: string }).error, 'invalid_grant');
    const wrongEndpoint = await http.send('POST', '/oauth/provider/token', {
      accept: '',
      form: { grant_type: 'refresh_token', refresh_token: sim.credentials.tenants[0]?.apiToken ?? '' },
    });
    assert.equal(wrongEndpoint.status, 400);
  });

  it('expires access tokens after expires_in and sessions after 30 idle minutes', async () => {
    const grant = await http.send('POST', '/oauth/tenant/acme/token', {
      accept: '',
      form: { grant_type: 'refresh_token', refresh_token: sim.credentials.tenants[0]?.apiToken ?? '' },
    });
    const access = (grant.body as { access_token: string }).access_token;
    const session = await http.login('acme');
    now += 29 * 60_000;
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: session })).status, 200, 'activity renews the idle timer');
    now += 29 * 60_000;
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: session })).status, 200);
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: access })).status, 200, 'the access token lives 3600 s');
    now += 3 * 60_000;
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: access })).status, 401, 'the access token lived 3600 s');
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: session })).status, 200);
    now += 31 * 60_000;
    assert.equal((await http.send('GET', `${API}/sessions/current`, { token: session })).status, 401);
  });

  it('requires a supported API version in Accept and gates endpoints by version', async () => {
    const token = await http.login('acme');
    const none = await http.send('GET', `${API}/edgeGateways`, { token, accept: 'application/json' });
    assert.equal(none.status, 406);
    const tooNew = await http.send('GET', `${API}/edgeGateways`, { token, version: '40.0' });
    assert.equal(tooNew.status, 406);
    const ipSpacesAt370 = await http.send('GET', `${API}/ipSpaces/summaries`, { token, version: '37.0' });
    assert.equal(ipSpacesAt370.status, 404, 'IP Spaces exist from 37.1');
    assert.equal((await http.send('GET', `${API}/ipSpaces/summaries`, { token, version: '37.1' })).status, 200);
  });

  it('lets a provider act in an org through the tenant-context header (bare UUID), and not a tenant in another org', async () => {
    const provider = await http.login('provider');
    const acme = await http.login('acme');
    const orgs = (await http.send('GET', `${API}/orgs`, { token: provider })).body as { values: Array<{ id: string; name: string }> };
    const globexId = orgs.values.find((o) => o.name === 'globex')?.id ?? '';
    const uuid = globexId.split(':').pop() ?? '';
    const edges = await http.send('GET', `${API}/edgeGateways`, {
      token: provider,
      headers: { 'x-vmware-vcloud-tenant-context': uuid, 'x-vmware-vcloud-auth-context': 'globex' },
    });
    assert.equal(edges.status, 200);
    const denied = await http.send('GET', `${API}/edgeGateways`, { token: acme, headers: { 'x-vmware-vcloud-tenant-context': uuid } });
    assert.equal(denied.status, 403);
  });

  it('runs a write as a task: 202 + Location, queued → running → success, with the created entity as Owner (XML and JSON)', async () => {
    const provider = await http.login('provider');
    const acme = await http.login('acme');
    const edgeId = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    const res = await http.send('POST', `${API}/firewallGroups`, {
      token: acme,
      body: { name: 'task-probe', typeValue: 'IP_SET', ipAddresses: ['10.0.0.1'], ownerRef: { id: edgeId } },
    });
    assert.equal(res.status, 202);
    assert.equal(res.body, undefined, 'the 202 has an empty body');
    const location = res.headers['location'] ?? '';
    assert.match(location, /^https:\/\/127\.0\.0\.1:\d+\/api\/task\/[0-9a-f-]{36}$/);

    assert.equal((await http.task(location, acme)).status, 'queued');
    now += 500;
    assert.equal((await http.task(location, acme)).status, 'running');
    now += 500;
    const done = await http.task(location, acme);
    assert.equal(done.status, 'success');
    assert.match(done.owner.id, /^urn:vcloud:firewallGroup:/);
    assert.equal(done.owner.name, 'task-probe');
    const created = await http.send('GET', `${API}/firewallGroups/${done.owner.id}`, { token: acme });
    assert.equal(created.status, 200);

    const globex = await http.login('globex');
    assert.equal(
      (await http.send('GET', new URL(location).pathname, { token: globex, accept: 'application/*+xml;version=37.2' })).status,
      403,
      'another org’s task',
    );
    const json = await http.send('GET', new URL(location).pathname, { token: provider, accept: 'application/*+json;version=37.2' });
    const body = json.body as { status: string; owner: { id: string } };
    assert.equal(body.status, 'success');
    assert.equal(body.owner.id, done.owner.id);
  });

  it('answers 403 ACCESS_TO_RESOURCE_IS_FORBIDDEN for unknown ids and other orgs’ objects', async () => {
    const acme = await http.login('acme');
    const globex = await http.login('globex');
    const unknown = await http.send('GET', `${API}/edgeGateways/urn:vcloud:gateway:00000000-0000-0000-0000-000000000000`, { token: acme });
    assert.equal(unknown.status, 403);
    assert.equal((unknown.body as { minorErrorCode: string }).minorErrorCode, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN');
    const globexEdge = await idByName(http, globex, `${API}/edgeGateways`, 'globex-edge');
    assert.equal((await http.send('GET', `${API}/edgeGateways/${globexEdge}`, { token: acme })).status, 403);
    assert.equal(
      (await http.send('GET', '/api/task/00000000-0000-0000-0000-000000000000', { token: acme, accept: 'application/*+xml;version=37.2' })).status,
      403,
    );
  });

  it('stretches a task by a slow-task fault', async () => {
    const acme = await http.login('acme');
    const edgeId = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
    sim.admin.addFault({ route: 'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules', kind: 'slow-task', delayMs: 4000, times: 1 });
    const res = await http.send('PUT', `${API}/edgeGateways/${edgeId}/firewall/rules`, { token: acme, body: { userDefinedRules: [] } });
    now += 1000;
    assert.equal((await http.task(res.headers['location'] ?? '', acme)).status, 'running');
    now += 4000;
    assert.equal((await http.task(res.headers['location'] ?? '', acme)).status, 'success');
  });

  it('answers routes it does not implement like VCD: 404 with an Error body', async () => {
    const acme = await http.login('acme');
    const res = await http.send('GET', `${API}/edgeGateways/x/nat/rules`, { token: acme });
    assert.equal(res.status, 404);
    assert.equal((res.body as { minorErrorCode: string }).minorErrorCode, 'NOT_FOUND');
    // On the legacy /api surface the error is VCD's XML Error document (what govcd parses).
    const legacy = await http.send('GET', '/api/catalog/x', { token: acme, accept: 'application/*+xml;version=37.2' });
    assert.equal(legacy.status, 404);
    assert.match(legacy.headers['content-type'] ?? '', /^application\/vnd\.vmware\.vcloud\.error\+xml/);
    assert.match(legacy.text, /<Error xmlns="http:\/\/www\.vmware\.com\/vcloud\/v1\.5" minorErrorCode="NOT_FOUND" message="[^"]+" majorErrorCode="404"/);
  });

  it('parses the task XML shape govcd reads', () => {
    const t = parseTaskXml(
      '<?xml version="1.0"?><Task xmlns="http://www.vmware.com/vcloud/v1.5" status="error" id="urn:vcloud:task:1" operation="X"><Owner href="h" id="urn:x" name="n" type="t"/><Error majorErrorCode="400" minorErrorCode="BAD_REQUEST" message="m"/><Details>d</Details></Task>',
    );
    assert.equal(t.error?.minorErrorCode, 'BAD_REQUEST');
    assert.equal(t.details, 'd');
  });
});
