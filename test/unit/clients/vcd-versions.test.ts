import assert from 'node:assert/strict';
import { UnsupportedApiVersionError } from '../../../src/clients/vcd/errors.ts';
import { compareVersions, negotiateVersion, parseSupportedVersions, productVersionFor, requireFeature } from '../../../src/clients/vcd/versions.ts';

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">
  <VersionInfo deprecated="true"><Version>36.0</Version><LoginUrl>https://vcd/api/sessions</LoginUrl></VersionInfo>
  <VersionInfo deprecated="false"><Version>37.0</Version><LoginUrl>https://vcd/api/sessions</LoginUrl></VersionInfo>
  <VersionInfo deprecated="false"><Version>37.1</Version><LoginUrl>https://vcd/api/sessions</LoginUrl></VersionInfo>
</SupportedVersions>`;

const v = (...versions: string[]) => versions.map((version) => ({ version, deprecated: false }));

describe('VCD version negotiation', () => {
  it('parses /api/versions in XML and JSON', () => {
    assert.deepEqual(parseSupportedVersions(XML), [
      { version: '36.0', deprecated: true },
      { version: '37.0', deprecated: false },
      { version: '37.1', deprecated: false },
    ]);
    assert.deepEqual(parseSupportedVersions({ versionInfo: [{ version: '37.2', deprecated: false }] }), v('37.2'));
  });

  it('compares versions numerically', () => {
    assert.ok(compareVersions('37.10', '37.2') > 0);
    assert.equal(compareVersions('37.2', '37.2'), 0);
    assert.ok(compareVersions('36.3', '37.0') < 0);
  });

  it('picks the highest version both sides know', () => {
    assert.deepEqual(negotiateVersion(v('36.0', '37.0', '37.1', '37.2', '38.0', '38.1')), { apiVersion: '37.2', serverHighest: '38.1' });
    assert.deepEqual(negotiateVersion(v('37.1', '36.0', '37.0')), { apiVersion: '37.1', serverHighest: '37.1' });
  });

  it('honours a pin the server offers and refuses one it does not', () => {
    assert.equal(negotiateVersion(v('37.0', '37.1', '37.2'), '37.0').apiVersion, '37.0');
    assert.throws(
      () => negotiateVersion(v('37.0', '37.1'), '37.2'),
      (err: unknown) => {
        assert.ok(err instanceof UnsupportedApiVersionError);
        assert.equal(err.requiredVersion, '37.2');
        assert.equal(err.actualVersion, '37.1');
        return true;
      },
    );
  });

  it('refuses a server older than anything we speak, naming the version needed', () => {
    assert.throws(() => negotiateVersion(v('33.0', '34.0', '35.2')), /needs VCD API 36\.0 or newer.*uses API 35\.2/);
  });

  it('fails fast and typed when an operation needs more than the connection speaks', () => {
    assert.doesNotThrow(() => requireFeature('37.1', 'ipSpaces', 'ipSpaces.list'));
    assert.throws(
      () => requireFeature('37.1', 'allocationValue', 'ipSpaces.allocate'),
      (err: unknown) =>
        err instanceof UnsupportedApiVersionError &&
        err.operation === 'ipSpaces.allocate' &&
        err.requiredVersion === '37.2' &&
        /allocation of a specific IP or prefix \(value\) needs VCD API 37\.2.*\(VCD 10\.4\.2 or newer/.test(err.message),
    );
    assert.throws(() => requireFeature('37.0', 'firewallAppliedTo', 'firewall.put'), /appliedTo.*37\.1/);
    assert.throws(() => requireFeature('36.3', 'ipSpaces', 'ipSpaces.get'), /IP Spaces needs VCD API 37\.1/);
  });

  it('maps the newest offered API version to the VCD release', () => {
    assert.equal(productVersionFor('37.2'), '10.4.2');
    assert.equal(productVersionFor('38.1'), '10.5.1');
    assert.equal(productVersionFor('99.0'), undefined);
  });
});
