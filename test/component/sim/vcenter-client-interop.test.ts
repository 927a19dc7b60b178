// The project's vCenter client against the simulated vCenters: the trust flow the operator runs
// (read B's VMCA root, ensure it in A's trusted-root-chains) turns the SSLVerifyFault check green.
import assert from 'node:assert/strict';
import { VCenterClient, rootsFromDownloadZip } from '../../../src/clients/vcenter/index.ts';
import { SimCore, serveRoutes, type ServedRoutes, type SimRequest } from '../../../src/sim/core/index.ts';
import { inspectCertificate } from '../../../src/sim/pki.ts';
import { checkTrust, createVCenterService, type VCenterService } from '../../../src/sim/vcenter/index.ts';

describe('vCenter client against the simulated vCenters', () => {
  const creds = { username: 'administrator@vsphere.local', password: 'VMware1!' };
  const core = new SimCore();
  let a: VCenterService;
  let b: VCenterService;
  let servedA: ServedRoutes;
  const clients: VCenterClient[] = [];

  before(async () => {
    a = await createVCenterService({ name: 'vc-a', ...creds });
    b = await createVCenterService({ name: 'vc-b', ...creds });
    servedA = await serveRoutes({ service: 'vcenter', instance: 'vc-a', routes: a.routes, tls: a.tls, core, notFound: a.notFound, faultBody: a.faultBody });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await servedA.close();
  });
  beforeEach(() => a.reset());

  for (const apiFamily of ['api', 'rest'] as const) {
    it(`ensures the other vCenter's VMCA root over /${apiFamily} and the trust check flips`, async () => {
      const client = await VCenterClient.connect({ url: servedA.url, ...creds, caPem: a.vmca.certPem, apiFamily, retry: { maxAttempts: 1 } });
      clients.push(client);
      assert.equal(checkTrust(a, b).trusted, false);
      assert.equal(await client.trustedRootChains.ensure('vc-b-root', [b.vmca.certPem]), 'created');
      assert.equal(await client.trustedRootChains.ensure('vc-b-root', [b.vmca.certPem]), 'unchanged');
      assert.deepEqual(checkTrust(a, b), { trusted: true });
      assert.ok((await client.trustedRootChains.list()).includes('vc-b-root'));
      const tls = await client.tls();
      assert.equal(tls.issuer_dn, 'CN=CA, O=vc-a');
      assert.equal(await client.trustedRootChains.delete('vc-b-root'), true);
      assert.equal(await client.trustedRootChains.delete('vc-b-root'), false);
      assert.equal(checkTrust(a, b).trusted, false);
    });
  }

  it("gives the client's zip reader the VMCA roots from download.zip", async () => {
    a.addTrustedRoot(b.vmca.certPem);
    const route = a.routes.find((r) => r.pattern === '/certs/download.zip');
    assert.ok(route);
    const req: SimRequest = { method: 'GET', path: '/certs/download.zip', params: {}, query: new URLSearchParams(), headers: {}, rawBody: '', body: undefined };
    const zip = (await route.handler(req)).body;
    assert.ok(Buffer.isBuffer(zip));
    const roots = rootsFromDownloadZip(zip);
    assert.deepEqual(
      roots.map((r) => r.fingerprints.sha256).sort(),
      [a.vmca.certPem, b.vmca.certPem].map((p) => inspectCertificate(p).sha256Fingerprint).sort(),
    );
  });
});
