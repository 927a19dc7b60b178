import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { TlsVerificationError, VCenterAuthError, VCenterClient, fingerprints, type VCenterConnectOptions } from '../../../src/clients/vcenter/index.ts';
import { fastRetry } from './helpers.ts';

const CHAINS = 'GET /api/vcenter/certificate-management/vcenter/trusted-root-chains';

describe('vCenter client against the simulator', function () {
  this.timeout(30_000);
  let sim: RunningSim;
  const clients: VCenterClient[] = [];

  const opts = (name: string, over: Partial<VCenterConnectOptions> = {}): VCenterConnectOptions => {
    const vc = sim.vcenters.find((v) => v.name === name);
    if (!vc) throw new Error(`no vCenter ${name} in the fixture`);
    return { url: vc.url, username: vc.username, password: vc.password, caPem: vc.caPem, retry: fastRetry, ...over };
  };
  async function connect(name: string, over: Partial<VCenterConnectOptions> = {}): Promise<VCenterClient> {
    const c = await VCenterClient.connect(opts(name, over));
    clients.push(c);
    return c;
  }
  const calls = (route: string): number => sim.admin.callCount(route, 'vcenter');

  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.admin.reset());
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it("makes vc-a trust vc-b's VMCA root, found as the issuer of vc-b's TLS certificate", async () => {
    const a = await connect('vc-a');
    const b = await connect('vc-b');
    assert.equal(a.apiFamily, 'api');
    assert.equal(sim.admin.vcenterTrust('vc-a', 'vc-b').trusted, false);
    const root = await b.vmcaRoot();
    assert.equal(root.fingerprints.sha256, fingerprints(sim.vcenters[1]!.caPem).sha256);
    const chainId = `vcd-operator-${root.fingerprints.sha256.replace(/:/g, '').slice(0, 16).toLowerCase()}`;
    assert.equal(await a.trustedRootChains.ensure(chainId, [root.pem]), 'created');
    assert.equal(await a.trustedRootChains.ensure(chainId, [root.pem]), 'unchanged');
    assert.equal(sim.admin.vcenterTrust('vc-a', 'vc-b').trusted, true);
    assert.ok((await a.trustedRootChains.list()).includes(chainId));
    assert.equal(await a.trustedRootChains.delete(chainId), true);
    assert.equal(sim.admin.vcenterTrust('vc-a', 'vc-b').trusted, false);
  });

  it('reads the trusted roots from download.zip', async () => {
    const a = await connect('vc-a');
    await a.trustedRootChains.ensure('vc-b-root', [sim.vcenters[1]!.caPem]);
    const roots = await a.downloadRoots();
    assert.deepEqual(
      roots.map((r) => r.fingerprints.sha256).sort(),
      [sim.vcenters[0]!.caPem, sim.vcenters[1]!.caPem].map((p) => fingerprints(p).sha256).sort(),
    );
  });

  it('falls back to /rest when the vCenter has no /api', async () => {
    sim.admin.addFault({ route: 'POST /api/session', service: 'vcenter', instance: 'vc-a', kind: 'status', status: 404 });
    const a = await connect('vc-a');
    assert.equal(a.apiFamily, 'rest');
    const cPem = sim.vcenters[2]!.caPem;
    assert.equal(await a.trustedRootChains.ensure('vc-c-root', [cPem]), 'created');
    assert.equal(sim.admin.vcenterTrust('vc-a', 'vc-c').trusted, true);
    assert.ok(calls('POST /rest/vcenter/certificate-management/vcenter/trusted-root-chains') === 1);
  });

  it('replaces a chain whose content differs, and finds its own lost create on retry', async () => {
    const a = await connect('vc-a');
    const [bPem, cPem] = [sim.vcenters[1]!.caPem, sim.vcenters[2]!.caPem];
    await a.trustedRootChains.ensure('peer-root', [bPem]);
    assert.equal(await a.trustedRootChains.ensure('peer-root', [cPem]), 'replaced');
    assert.deepEqual(
      (await a.trustedRootChains.get('peer-root')).map((p) => fingerprints(p).sha256),
      [fingerprints(cPem).sha256],
    );
    await a.trustedRootChains.delete('peer-root');
    sim.admin.addFault({
      route: 'POST /api/vcenter/certificate-management/vcenter/trusted-root-chains',
      service: 'vcenter',
      kind: 'drop-after-commit',
      times: 1,
    });
    assert.equal(await a.trustedRootChains.ensure('peer-root', [bPem]), 'created');
    assert.equal(sim.admin.vcenterTrust('vc-a', 'vc-b').trusted, true);
  });

  it('retries 503, logs in again after a 401, and refuses bad credentials', async () => {
    const a = await connect('vc-a');
    sim.admin.addFault({ route: CHAINS, service: 'vcenter', kind: 'status', status: 503, times: 2 });
    assert.ok((await a.trustedRootChains.list()).length >= 1);
    assert.equal(calls(CHAINS), 3);
    sim.admin.addFault({ route: CHAINS, service: 'vcenter', kind: 'status', status: 401, times: 1 });
    await a.trustedRootChains.list();
    assert.equal(calls('POST /api/session'), 2);
    await assert.rejects(VCenterClient.connect(opts('vc-a', { password: 'wrong-password' })), VCenterAuthError);
  });

  it("refuses vc-a when only vc-b's CA is trusted", async () => {
    await assert.rejects(VCenterClient.connect(opts('vc-a', { caPem: sim.vcenters[1]!.caPem })), TlsVerificationError);
  });
});
