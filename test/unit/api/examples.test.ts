// examples/ must be what the brief and the demo rely on: valid objects by the operator's own
// validators, the tenant/provider split, placeholders the demo can substitute.
import assert from 'node:assert/strict';
import {
  API_VERSION,
  CredentialKeys,
  validateClusterVCDConnection,
  validateEdgeFirewallRule,
  validateEdgeGatewayUplink,
  validateEdgeStaticRoute,
  validateFloatingIPClaim,
  validateIPPrefixClaim,
  validateIPSpace,
  validateNSXConnection,
  validateVCDConnection,
  validateVCenterTrust,
  type ValidationResult,
} from '../../../src/api/index.ts';
import { loadExamples } from './examples.ts';

const validators: Record<string, { validate(obj: unknown): ValidationResult<unknown> }> = {
  VCDConnection: validateVCDConnection,
  ClusterVCDConnection: validateClusterVCDConnection,
  IPSpace: validateIPSpace,
  FloatingIPClaim: validateFloatingIPClaim,
  IPPrefixClaim: validateIPPrefixClaim,
  VCenterTrust: validateVCenterTrust,
  EdgeFirewallRule: validateEdgeFirewallRule,
  NSXConnection: validateNSXConnection,
  EdgeGatewayUplink: validateEdgeGatewayUplink,
  EdgeStaticRoute: validateEdgeStaticRoute,
};

describe('examples/', function () {
  const docs = loadExamples();
  const of = (kind: string) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj);

  for (const { file, obj } of docs.filter((d) => d.obj.apiVersion === API_VERSION)) {
    it(`${file}: ${obj.kind} ${obj.metadata.name} passes the operator's validation`, function () {
      const r = validators[obj.kind]?.validate(obj);
      assert.ok(r, `no validator for ${obj.kind}`);
      assert.ok(r.valid, r.valid ? '' : r.message);
    });
  }

  it('holds the namespaces, both connections, a Private and a Public IP Space, two floating IPs, a prefix and two firewall rules', function () {
    assert.deepEqual(
      of('Namespace')
        .map((n) => n.metadata.name)
        .sort(),
      ['team-a', 'team-b', 'vcd-operator-system'],
    );
    assert.equal(of('VCDConnection').length, 1);
    assert.equal(of('ClusterVCDConnection').length, 1);
    assert.equal(of('IPSpace').length, 2);
    assert.equal(of('FloatingIPClaim').length, 2);
    assert.equal(of('IPPrefixClaim').length, 1);
    assert.equal(of('EdgeFirewallRule').length, 2);
  });

  it("routes: a segment uplink with provider rights, a default route through it with acme's, an IP Space advertised from the Tier-0", function () {
    const uplink = validateEdgeGatewayUplink.assert(of('EdgeGatewayUplink')[0]);
    const route = validateEdgeStaticRoute.assert(of('EdgeStaticRoute')[0]);
    const nsx = validateNSXConnection.assert(of('NSXConnection')[0]);
    assert.equal(uplink.spec.connectionRef.kind, 'ClusterVCDConnection');
    assert.deepEqual(route.spec.connectionRef, { kind: 'VCDConnection', name: 'acme' });
    assert.equal(route.spec.destination, '0.0.0.0/0');
    assert.deepEqual(route.spec.nextHops[0]?.scope, { externalNetwork: uplink.spec.externalNetwork.name });
    assert.deepEqual(route.spec.edgeGateway, uplink.spec.edgeGateway);
    const advertised = of('IPSpace')
      .map((o) => validateIPSpace.assert(o))
      .filter((o) => o.spec.tier0Advertisement);
    assert.deepEqual(
      advertised.map((o) => o.spec.tier0Advertisement?.nsxConnectionRef.name),
      [nsx.metadata.name],
    );
    const secret = of('Secret').find((s) => s.metadata.name === nsx.spec.credentialsSecretRef.name) as
      { metadata: { namespace?: string }; stringData?: Record<string, string> } | undefined;
    assert.equal(secret?.metadata.namespace, 'vcd-operator-system');
    assert.deepEqual(Object.keys(secret?.stringData ?? {}).sort(), ['password', 'username']);
  });

  it('puts each Secret where its connection may read it, with a placeholder token', function () {
    const secrets = new Map(of('Secret').map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
    const tenant = validateVCDConnection.assert(of('VCDConnection')[0]);
    const provider = validateClusterVCDConnection.assert(of('ClusterVCDConnection')[0]);
    assert.equal(tenant.spec.org, 'acme');
    assert.equal(provider.spec.org, 'System');
    for (const key of [
      `${tenant.metadata.namespace}/${tenant.spec.credentialsSecretRef.name}`,
      `vcd-operator-system/${provider.spec.credentialsSecretRef.name}`,
    ]) {
      const s = secrets.get(key) as { stringData?: Record<string, string> } | undefined;
      assert.ok(s, `Secret ${key} is missing`);
      assert.deepEqual(s.stringData, { [CredentialKeys.apiToken]: 'REPLACE_WITH_API_TOKEN' });
    }
    assert.deepEqual(provider.spec.allowedNamespaces, {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a', 'team-b'] }],
    });
  });

  it('holds a three-vCenter trust whose Secrets are in the operator namespace, with a placeholder password', function () {
    const trust = validateVCenterTrust.assert(of('VCenterTrust')[0]);
    assert.deepEqual(
      trust.spec.members.map((m) => m.name),
      ['vc-a', 'vc-b', 'vc-c'],
    );
    const secrets = new Map(of('Secret').map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s as { stringData?: Record<string, string> }]));
    for (const m of trust.spec.members) {
      const s = secrets.get(`vcd-operator-system/${m.credentialsSecretRef.name}`);
      assert.ok(s, `Secret for ${m.name} is missing`);
      assert.equal(s.stringData?.['password'], 'REPLACE_WITH_PASSWORD');
    }
  });

  it('claims from the existing public-ips through the tenant connection, and creates the Private space through the provider', function () {
    for (const c of [
      ...of('FloatingIPClaim').map((o) => validateFloatingIPClaim.assert(o)),
      ...of('IPPrefixClaim').map((o) => validateIPPrefixClaim.assert(o)),
    ]) {
      assert.equal(c.metadata.namespace, 'team-a');
      assert.deepEqual(c.spec.ipSpace, { name: 'public-ips' });
      assert.deepEqual(c.spec.connectionRef, { kind: 'VCDConnection', name: 'acme' });
    }
    const space = validateIPSpace.assert(of('IPSpace').find((o) => o.metadata.name === 'acme-private'));
    assert.equal(space.metadata.namespace, 'team-a');
    assert.deepEqual(
      [space.spec.type, space.spec.org, space.spec.connectionRef],
      ['Private', { name: 'acme' }, { kind: 'ClusterVCDConnection', name: 'provider' }],
    );
  });

  it('puts rules from two namespaces on acme-edge, one applied to the segment-backed seg-transit', function () {
    const rules = of('EdgeFirewallRule').map((o) => validateEdgeFirewallRule.assert(o));
    assert.deepEqual(rules.map((r) => r.metadata.namespace).sort(), ['team-a', 'team-b']);
    for (const r of rules) assert.deepEqual(r.spec.edgeGateway, { name: 'acme-edge' });
    assert.deepEqual(
      rules.filter((r) => r.spec.appliedTo).map((r) => r.spec.appliedTo),
      ['seg-transit'],
    );
  });
});
