import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createCA } from '../../../src/sim/pki.ts';
import { opensslSubjectHash } from '../../../src/sim/vcenter/subject-hash.ts';

// download.zip names roots certs/lin/<hash>.0; the hash must be OpenSSL's so the folder works as a CApath.
describe('OpenSSL subject hash for download.zip names', () => {
  const cases: Array<[string, string]> = [
    ['CA', 'vc-a'],
    ['  Mixed   CASE\tCA  ', 'Org With Spaces'],
    ['Ümlaut CA', 'Ärger GmbH'],
    ['x'.repeat(200), 'long names need long-form DER lengths'],
  ];
  for (const [cn, org] of cases) {
    it(`matches openssl x509 -hash for CN=${JSON.stringify(cn.slice(0, 20))}`, async () => {
      const ca = await createCA(cn, { organization: org });
      const expected = execFileSync('openssl', ['x509', '-hash', '-noout'], { input: ca.certPem }).toString().trim();
      assert.equal(opensslSubjectHash(ca.certPem), expected);
    });
  }

  it('gives names that differ only in case and spacing the same hash, as OpenSSL does', async () => {
    const a = await createCA('Cloud  Root', { organization: 'ACME' });
    const b = await createCA(' cloud root ', { organization: 'acme' });
    assert.equal(opensslSubjectHash(a.certPem), opensslSubjectHash(b.certPem));
  });
});
