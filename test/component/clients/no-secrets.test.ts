// A whole client run (logins, token expiry, faults, retries, failed logins, all three services)
// logged at debug level into a buffer: no password, API token, access token or session id may
// appear in it, nor in any error thrown along the way.
import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { VcdClient } from '../../../src/clients/vcd/index.ts';
import { NsxClient } from '../../../src/clients/nsx/index.ts';
import { VCenterClient } from '../../../src/clients/vcenter/index.ts';
import { captureLog, errorText, fastBusyRetry, fastPoll, fastRetry } from './helpers.ts';

const URL_PASSWORD = 'pw-in-the-url-7f3a';

describe('cloud clients never reveal credentials', function () {
  this.timeout(30_000);
  let sim: RunningSim;

  before(async () => {
    sim = await startSimulator({ knobs: { latencyMs: 0, taskDurationMs: 20 } });
  });
  after(async () => {
    await sim.stop();
  });

  it('keeps passwords, API tokens, access tokens and session ids out of logs and errors', async () => {
    const log = captureLog('debug');
    const errors: unknown[] = [];
    const expectFailure = async (p: Promise<unknown>): Promise<void> => {
      await p.then(
        () => assert.fail('expected a failure'),
        (err: unknown) => errors.push(err),
      );
    };
    const common = { caPem: sim.caPem, logger: log.logger, retry: fastRetry, busyRetry: fastBusyRetry, taskPoll: fastPoll };
    const acme = sim.credentials.tenants.find((t) => t.org === 'acme')!;

    // VCD: API token and Basic logins, expiry mid-run, retries, a lost answer, failures.
    const provider = await VcdClient.connect({ url: sim.vcd.url, org: 'System', auth: { apiToken: sim.credentials.provider.apiToken }, ...common });
    const tenant = await VcdClient.connect({ url: sim.vcd.url, org: 'acme', auth: { username: acme.username, password: acme.password }, ...common });
    const tenantByToken = await VcdClient.connect({ url: sim.vcd.url, org: 'acme', auth: { apiToken: acme.apiToken }, ...common });
    await tenantByToken.edgeGateways.list();
    await tenantByToken.close();
    const space = await provider.ipSpaces.findByName('public-ips');
    const edge = await tenant.edgeGateways.findByName('acme-edge');
    sim.admin.expireSessions();
    sim.admin.addFault({ route: 'GET /cloudapi/1.0.0/ipSpaces/summaries', kind: 'status', status: 503, times: 1 });
    await provider.ipSpaces.list();
    await provider.forOrg('acme').ipSpaces.allocate(space!.id!, { type: 'FLOATING_IP' });
    sim.admin.addFault({ route: 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate', kind: 'drop-after-commit', times: 1 });
    await expectFailure(tenant.ipSpaces.allocate(space!.id!, { type: 'FLOATING_IP' }));
    sim.admin.addFault({ route: 'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules', kind: 'drop-after-commit', times: 1 });
    await tenant.firewall.put(edge!.id!, [{ name: 'r1', actionValue: 'ALLOW' }]);
    await expectFailure(tenant.ipSpaces.get('urn:vcloud:ipSpace:00000000-0000-0000-0000-000000000000'));
    await expectFailure(VcdClient.connect({ url: sim.vcd.url, org: 'acme', auth: { username: acme.username, password: `${acme.password}-wrong` }, ...common }));
    await expectFailure(VcdClient.connect({ url: sim.vcd.url, org: 'System', auth: { apiToken: `${sim.credentials.provider.apiToken}-wrong` }, ...common }));
    await expectFailure(
      VcdClient.connect({ url: sim.vcd.url, org: 'System', auth: { apiToken: sim.credentials.provider.apiToken }, ...common, caPem: sim.vcenters[0]!.caPem }),
    );
    // A password written into the URL itself (admission refuses it; the clients still never show it).
    const urlWithPassword = sim.vcd.url.replace('https://', `https://admin:${URL_PASSWORD}@`);
    const viaUrl = await VcdClient.connect({ url: urlWithPassword, org: 'acme', auth: { apiToken: acme.apiToken }, ...common });
    await viaUrl.edgeGateways.list();
    await viaUrl.close();
    await expectFailure(VcdClient.connect({ url: urlWithPassword, org: 'acme', auth: { apiToken: acme.apiToken }, ...common, caPem: sim.vcenters[0]!.caPem }));
    await provider.close();
    await tenant.close();

    // NSX: session with XSRF, a rejected session rebuilt, Basic, a bad password.
    const nsx = await NsxClient.connect({ url: sim.nsx.url, username: sim.nsx.username, password: sim.nsx.password, ...common });
    sim.admin.addFault({ route: 'GET /policy/api/v1/infra/tier-0s', service: 'nsx', kind: 'status', status: 403, times: 1 });
    await nsx.list('/infra/tier-0s');
    await nsx.close();
    const nsxBasic = await NsxClient.connect({ url: sim.nsx.url, username: sim.nsx.username, password: sim.nsx.password, authMode: 'basic', ...common });
    await nsxBasic.close();
    await expectFailure(NsxClient.connect({ url: sim.nsx.url, username: sim.nsx.username, password: `${sim.nsx.password}-wrong`, ...common }));

    // vCenter: session, a 401 answered by a new login, trust ensure, a bad password.
    const [vcA, vcB] = sim.vcenters;
    const vc = await VCenterClient.connect({ url: vcA!.url, username: vcA!.username, password: vcA!.password, ...common, caPem: vcA!.caPem });
    sim.admin.addFault({
      route: 'GET /api/vcenter/certificate-management/vcenter/trusted-root-chains',
      service: 'vcenter',
      kind: 'status',
      status: 401,
      times: 1,
    });
    await vc.trustedRootChains.ensure('peer', [vcB!.caPem]);
    await vc.trustedRootChains.list();
    await vc.close();
    await expectFailure(VCenterClient.connect({ url: vcA!.url, username: vcA!.username, password: `${vcA!.password}-wrong`, ...common, caPem: vcA!.caPem }));

    const text = log.text();
    // The capture must really hold the run, or the checks below prove nothing.
    assert.match(text, /logged in to VCD/);
    assert.match(text, /retrying cloud request/);
    assert.match(text, /VCD rejected the token; logging in again/);
    assert.match(text, /NSX session rejected; creating a new one/);
    assert.match(text, /"operation":"trustedRootChains.list"/);
    assert.equal(errors.length, 8);

    const secrets = [
      sim.credentials.provider.password,
      sim.credentials.provider.apiToken,
      ...sim.credentials.tenants.flatMap((t) => [t.password, t.apiToken]),
      sim.nsx.password,
      ...sim.vcenters.map((v) => v.password),
      URL_PASSWORD,
    ];
    const haystacks = { log: text, errors: errors.map(errorText).join('\n') };
    for (const [where, hay] of Object.entries(haystacks)) {
      for (const s of secrets) assert.ok(!hay.includes(s), `a credential appeared in the ${where}`);
      for (const s of secrets) assert.ok(!hay.includes(Buffer.from(s).toString('base64')), `a base64 credential appeared in the ${where}`);
      // VCD access tokens are JWTs (base64url JSON: "eyJ..."), session ids are URNs, NSX session ids
      // and vCenter session tokens are 32 hex digits.
      assert.doesNotMatch(hay, /eyJ[\w-]{8,}\.[\w-]{8,}/, `an access token appeared in the ${where}`);
      assert.doesNotMatch(hay, /urn:vcloud:session:/, `a session id appeared in the ${where}`);
      assert.doesNotMatch(hay, /JSESSIONID=\w/, `an NSX session appeared in the ${where}`);
      assert.doesNotMatch(hay, /\b[0-9a-fA-F]{32}\b/, `a session token appeared in the ${where}`);
      assert.doesNotMatch(hay, /authorization|x-xsrf-token|vmware-api-session-id/i, `credential headers appeared in the ${where}`);
    }
  });
});
