import assert from 'node:assert/strict';
import { request, type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CertificateParseError, chainsTo, createCA, createSelfSignedLeaf, inspectCertificate, splitPemCertificates } from '../../../src/sim/pki.ts';

function get(port: number, host: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', ca, servername: host === 'localhost' ? host : undefined }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sim PKI', () => {
  it('issues a CA that Node clients trust for a server leaf on localhost and 127.0.0.1', async () => {
    const ca = await createCA('sim CA');
    const leaf = await ca.issueServer({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      assert.equal(await get(port, '127.0.0.1', ca.certPem), 'hello');
      assert.equal(await get(port, 'localhost', ca.certPem), 'hello');
      // Another CA's root must not verify this server: the trust is real, not "accept anything".
      const other = await createCA('other CA');
      await assert.rejects(get(port, '127.0.0.1', other.certPem), /self-signed|unable to verify|certificate/i);
    } finally {
      server.close();
    }
  });

  it('marks CAs as CA and leaves as not, with the names and fingerprints vCenter reports', async () => {
    const ca = await createCA('vc-a VMCA', { organization: 'vc-a' });
    const leaf = await ca.issueServer({ commonName: 'vc-a.local', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const caInfo = inspectCertificate(ca.certPem);
    const leafInfo = inspectCertificate(leaf.certPem);
    assert.equal(caInfo.isCA, true);
    assert.equal(leafInfo.isCA, false);
    assert.equal(ca.name, 'CN=vc-a VMCA\nO=vc-a');
    assert.equal(leafInfo.issuer, caInfo.subject);
    assert.deepEqual(leafInfo.subjectAltNames, ['DNS:localhost', 'IP Address:127.0.0.1']);
    assert.deepEqual(caInfo.keyUsage, ['keyCertSign', 'cRLSign']);
    assert.deepEqual(leafInfo.keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(leafInfo.extendedKeyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(leafInfo.signatureAlgorithm, 'SHA256withECDSA');
    assert.match(caInfo.sha1Fingerprint, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    assert.match(caInfo.sha256Fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(inspectCertificate((await createSelfSignedLeaf('not a CA')).certPem).isCA, false);
  });

  it('checks chains by signature, not by name alone', async () => {
    const ca = await createCA('same name');
    const impostor = await createCA('same name');
    const leaf = await ca.issueServer({ commonName: 'x', dnsNames: ['localhost'], ipAddresses: [] });
    assert.equal(chainsTo(leaf.certPem, [ca.certPem]), true);
    assert.equal(chainsTo(leaf.certPem, [impostor.certPem]), false);
    assert.equal(chainsTo(leaf.certPem, []), false);
    assert.equal(chainsTo(leaf.certPem, ['garbage', impostor.certPem, ca.certPem]), true);
  });

  it('honours validity with an injected clock', async () => {
    const issued = new Date('2026-01-01T00:00:00Z');
    const ca = await createCA('short', { now: () => issued, validDays: 10 });
    const leaf = await ca.issueServer({ commonName: 'x', dnsNames: ['localhost'], ipAddresses: [] });
    assert.equal(chainsTo(leaf.certPem, [ca.certPem], new Date('2026-01-05T00:00:00Z')), true);
    assert.equal(chainsTo(leaf.certPem, [ca.certPem], new Date('2026-02-01T00:00:00Z')), false);
  });

  it('rejects garbage and bundles as typed parse errors', async () => {
    assert.throws(() => inspectCertificate('not a certificate'), CertificateParseError);
    assert.throws(() => inspectCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), CertificateParseError);
    const a = await createCA('a');
    const b = await createCA('b');
    assert.throws(() => inspectCertificate(a.certPem + b.certPem), /expected one certificate, found 2/);
    assert.equal(splitPemCertificates(`junk\n${a.certPem}between\n${b.certPem}`).length, 2);
  });
});
