import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { createCA, type CertificateAuthority } from '../../../src/sim/pki.ts';
import { describeCertificate, fingerprints, sameCertificate, splitPem } from '../../../src/clients/vcenter/certificates.ts';
import { rootsFromDownloadZip } from '../../../src/clients/vcenter/downloadZip.ts';
import { toVCenterApiError, VCenterAlreadyExistsError, VCenterNotFoundError, VCenterAuthError, VCenterError } from '../../../src/clients/vcenter/errors.ts';

describe('vCenter certificates', () => {
  let caA: CertificateAuthority;
  let caB: CertificateAuthority;
  let leafPem: string;

  before(async () => {
    caA = await createCA('vc-a VMCA');
    caB = await createCA('vc-b VMCA');
    leafPem = (await caA.issueServer({ commonName: 'vc-a.example', dnsNames: ['vc-a.example'], ipAddresses: [] })).certPem;
  });

  it('computes SHA-1 and SHA-256 fingerprints of the DER, colon-separated', () => {
    const der = new X509Certificate(caA.certPem).raw;
    const expected256 = (createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g) ?? []).join(':');
    const fp = fingerprints(caA.certPem);
    assert.equal(fp.sha256, expected256);
    assert.equal(fp.sha1, new X509Certificate(caA.certPem).fingerprint);
  });

  it('splits bundles and compares certificates regardless of PEM formatting', () => {
    const bundle = `junk\n${caA.certPem}\n\n${caB.certPem.replace(/\n/g, '\r\n')}`;
    const certs = splitPem(bundle);
    assert.equal(certs.length, 2);
    assert.ok(sameCertificate(certs[1]!, caB.certPem));
    assert.ok(!sameCertificate(certs[0]!, caB.certPem));
  });

  it('describes a certificate: subject, issuer, CA flag, validity', () => {
    const root = describeCertificate(caA.certPem);
    assert.equal(root.isCA, true);
    assert.match(root.subject, /vc-a VMCA/);
    const leaf = describeCertificate(leafPem);
    assert.equal(leaf.isCA, false);
    assert.equal(leaf.issuer, root.subject);
    assert.ok(leaf.notAfter > leaf.notBefore);
  });

  it('reads the roots from download.zip: certs/lin/*.N only, no CRLs, no duplicates', () => {
    const zip = zipSync({
      'certs/lin/1a2b3c4d.0': strToU8(caA.certPem),
      'certs/lin/1a2b3c4d.r0': strToU8('-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n'),
      'certs/lin/5e6f7a8b.0': strToU8(caB.certPem),
      'certs/lin/5e6f7a8b.1': strToU8(caB.certPem),
      'certs/win/1a2b3c4d.0.crt': strToU8(leafPem),
      'certs/mac/1a2b3c4d.0': strToU8(leafPem),
    });
    const roots = rootsFromDownloadZip(zip);
    assert.deepEqual(
      roots.map((r) => r.fingerprints.sha256),
      [fingerprints(caA.certPem).sha256, fingerprints(caB.certPem).sha256],
    );
    assert.ok(roots.every((r) => r.isCA));
  });
});

describe('vCenter error mapping', () => {
  it('reads /api and /rest error bodies', () => {
    const api = toVCenterApiError(
      'trustedRootChains.get',
      404,
      { error_type: 'NOT_FOUND', messages: [{ id: 'x', default_message: 'No chain abc', args: [] }] },
      (s) => s,
    );
    assert.ok(api instanceof VCenterNotFoundError);
    assert.equal(api.serverMessage, 'No chain abc');
    const rest = toVCenterApiError(
      'trustedRootChains.create',
      400,
      { type: 'com.vmware.vapi.std.errors.already_exists', value: { messages: [{ default_message: 'exists' }] } },
      (s) => s,
    );
    assert.ok(rest instanceof VCenterAlreadyExistsError);
    assert.equal(rest.errorType, 'ALREADY_EXISTS');
    assert.ok(toVCenterApiError('session.create', 401, { error_type: 'UNAUTHENTICATED', messages: [] }, (s) => s) instanceof VCenterAuthError);
  });
});

describe('vCenter download.zip errors', () => {
  it('reports an unreadable archive as a typed error', () => {
    assert.throws(
      () => rootsFromDownloadZip(Buffer.from('{"type":"Buffer","data":[80,75]}')),
      (err: unknown) => err instanceof VCenterError && /not a readable zip/.test(err.message),
    );
  });
});
