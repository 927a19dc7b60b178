// The IPSpace spec → VCD IpSpace body, the diff against what VCD holds, and the PUT body that
// keeps range and sequence ids. Bodies are checked against the VCD 37.2 spec's IpSpace definition.
import assert from 'node:assert/strict';
import type { IPSpaceSpec } from '../../../src/api/index.ts';
import type { IpSpace } from '../../../src/clients/vcd/index.ts';
import { defaultQuotas, desiredIpSpace, diffIpSpace, updateBody } from '../../../src/controllers/ipspace/desired.ts';
import { assertMatchesSpec } from '../sim/spec-contract.ts';

const base: IPSpaceSpec = {
  connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' },
  type: 'Public',
  internalScope: ['203.0.113.0/24', '198.51.100.0/24'],
  externalScope: '0.0.0.0/0',
  ipRanges: [{ start: '203.0.113.10', end: '203.0.113.250' }],
  prefixSequences: [
    { startCIDR: '198.51.100.0/28', count: 4 },
    { startCIDR: '198.51.100.128/26', count: 1 },
    { startCIDR: '198.51.100.64/28', count: 2 },
  ],
  defaultQuotas: { floatingIPs: 10, prefixes: [{ prefixLength: 28, quota: 2 }] },
  routeAdvertisementEnabled: true,
};
const inputs = { name: 'public-ips', description: 'text\nvcd-operator.io cluster=c IPSpace=ns/n uid=u' };

/** What VCD answers for a stored body: ids on ranges and sequences, read-only counters. */
function stored(body: IpSpace): IpSpace {
  const s = structuredClone(body);
  s.id = 'urn:vcloud:ipSpace:11111111-1111-1111-1111-111111111111';
  s.status = 'REALIZED';
  s.ipSpaceRanges?.ipRanges.forEach((r, i) => Object.assign(r, { id: `range-${i}`, totalIpCount: '241', allocatedIpCount: '0', allocatedIpPercentage: 0 }));
  s.ipSpacePrefixes?.forEach((g, gi) =>
    g.ipPrefixSequence.forEach((q, i) => Object.assign(q, { id: `seq-${gi}-${i}`, allocatedPrefixCount: 0, allocatedPrefixPercentage: 0 })),
  );
  return s;
}

describe('IPSpace desired state', function () {
  it('maps the spec onto an IpSpace body the VCD spec accepts, one prefix pool per length', function () {
    const body = desiredIpSpace(base, inputs);
    assertMatchesSpec('IpSpace', body);
    assert.equal(body.type, 'PUBLIC');
    assert.equal(body.description, inputs.description);
    assert.deepEqual(body.ipSpaceInternalScope, ['203.0.113.0/24', '198.51.100.0/24']);
    assert.equal(body.ipSpaceExternalScope, '0.0.0.0/0');
    assert.deepEqual(body.ipSpaceRanges, { ipRanges: [{ startIpAddress: '203.0.113.10', endIpAddress: '203.0.113.250' }], defaultFloatingIpQuota: 10 });
    assert.deepEqual(body.ipSpacePrefixes, [
      {
        ipPrefixSequence: [
          { startingPrefixIpAddress: '198.51.100.0', prefixLength: 28, totalPrefixCount: 4 },
          { startingPrefixIpAddress: '198.51.100.64', prefixLength: 28, totalPrefixCount: 2 },
        ],
        defaultQuotaForPrefixLength: 2,
      },
      { ipPrefixSequence: [{ startingPrefixIpAddress: '198.51.100.128', prefixLength: 26, totalPrefixCount: 1 }], defaultQuotaForPrefixLength: 0 },
    ]);
    assert.equal(body.routeAdvertisementEnabled, true);
    assert.equal(body.orgRef, undefined);
  });

  it('spells out VCD defaults for unset quotas, so a change made in the VCD UI shows up as drift', function () {
    const pub = desiredIpSpace({ ...base, defaultQuotas: undefined }, inputs);
    assert.equal(pub.ipSpaceRanges?.defaultFloatingIpQuota, 1);
    assert.deepEqual(
      pub.ipSpacePrefixes?.map((g) => g.defaultQuotaForPrefixLength),
      [0, 0],
    );
    const priv = desiredIpSpace(
      { ...base, type: 'Private', org: { name: 'acme' }, defaultQuotas: undefined },
      { ...inputs, orgId: 'urn:vcloud:org:22222222-2222-2222-2222-222222222222' },
    );
    assertMatchesSpec('IpSpace', priv);
    assert.equal(priv.type, 'PRIVATE');
    assert.deepEqual(priv.orgRef, { id: 'urn:vcloud:org:22222222-2222-2222-2222-222222222222' });
    assert.equal(priv.ipSpaceRanges?.defaultFloatingIpQuota, -1);
    assert.deepEqual(
      priv.ipSpacePrefixes?.map((g) => g.defaultQuotaForPrefixLength),
      [-1, -1],
    );
    assert.deepEqual(defaultQuotas('SharedServices'), { floatingIPs: 1, prefixes: 0 });
  });

  it('sends no ranges (VCD wants at least one when present) and no prefixes when the spec has none, and no external scope when unset', function () {
    const spec = {
      ...base,
      ipRanges: undefined,
      prefixSequences: undefined,
      externalScope: undefined,
      defaultQuotas: { floatingIPs: 4 },
      routeAdvertisementEnabled: undefined,
    };
    const body = desiredIpSpace(spec, inputs);
    assertMatchesSpec('IpSpace', body);
    assert.equal('ipSpaceRanges' in body, false);
    assert.deepEqual(body.ipSpacePrefixes, []);
    // What VCD then reports (its own default quota on an empty range list) is not drift.
    const current = stored(body);
    current.ipSpaceRanges = { ipRanges: [], defaultFloatingIpQuota: 1 };
    assert.deepEqual(diffIpSpace(body, current, 'Public'), []);
    assert.equal('ipSpaceExternalScope' in body, false);
    assert.equal(body.routeAdvertisementEnabled, false);
  });
});

describe('IPSpace diff against VCD', function () {
  const desired = desiredIpSpace(base, inputs);

  it('finds nothing to write when VCD holds what the spec says, read-only fields and order aside', function () {
    const current = stored(desired);
    current.ipSpaceInternalScope = [...current.ipSpaceInternalScope].reverse();
    current.ipSpacePrefixes = [...(current.ipSpacePrefixes ?? [])].reverse();
    current.utilization = { floatingIPs: { totalCount: '241', allocatedCount: '3' } };
    assert.deepEqual(diffIpSpace(desired, current, 'Public'), []);
  });

  it('compares what VCD normalises in canonical form: CIDR host bits, IPv6 spelling, prefix starts', function () {
    const spec: IPSpaceSpec = {
      ...base,
      internalScope: ['2001:db8:0:0::/48'],
      externalScope: undefined,
      ipRanges: [{ start: '2001:db8::a', end: '2001:DB8::00ff' }],
      prefixSequences: [{ startCIDR: '2001:db8:0:100::/56', count: 2 }],
      defaultQuotas: undefined,
    };
    const want = desiredIpSpace(spec, inputs);
    const current = stored(want);
    current.ipSpaceInternalScope = ['2001:0db8::/48'];
    current.ipSpaceRanges = { ipRanges: [{ id: 'r', startIpAddress: '2001:db8:0:0:0:0:0:a', endIpAddress: '2001:db8::ff' }], defaultFloatingIpQuota: 1 };
    assert.deepEqual(diffIpSpace(want, current, 'Public'), []);
    const v4 = stored(desired);
    v4.ipSpaceInternalScope = ['203.0.113.7/24', '198.51.100.0/24'];
    assert.deepEqual(diffIpSpace(desired, v4, 'Public'), []);
  });

  it('names each field that differs', function () {
    const current = stored(desired);
    current.name = 'old-name';
    current.description = 'someone edited this';
    current.ipSpaceRanges = { ipRanges: [{ id: 'r', startIpAddress: '203.0.113.10', endIpAddress: '203.0.113.200' }], defaultFloatingIpQuota: 5 };
    current.ipSpaceExternalScope = '10.0.0.0/8';
    current.routeAdvertisementEnabled = false;
    current.ipSpacePrefixes = current.ipSpacePrefixes?.slice(0, 1);
    current.type = 'SHARED_SERVICES';
    current.ipSpaceInternalScope = ['203.0.113.0/24'];
    assert.deepEqual(diffIpSpace(desired, current, 'Public'), [
      'name',
      'description',
      'type',
      'internalScope',
      'externalScope',
      'ipRanges',
      'prefixSequences',
      'defaultQuotas',
      'routeAdvertisementEnabled',
    ]);
  });

  it('sees a changed prefix-pool quota or a missing default as a quota difference', function () {
    const current = stored(desired);
    const pool = current.ipSpacePrefixes?.[0];
    assert.ok(pool);
    pool.defaultQuotaForPrefixLength = 3;
    assert.deepEqual(diffIpSpace(desired, current, 'Public'), ['defaultQuotas']);
    // VCD leaving a default out means its own default, which equals what the spec implies.
    const noQuota = desiredIpSpace({ ...base, defaultQuotas: undefined }, inputs);
    const omitted = stored(noQuota);
    delete omitted.ipSpaceRanges?.defaultFloatingIpQuota;
    for (const g of omitted.ipSpacePrefixes ?? []) delete g.defaultQuotaForPrefixLength;
    assert.deepEqual(diffIpSpace(noQuota, omitted, 'Public'), []);
  });

  it('puts the whole object, keeping the ids of ranges and sequences that stay', function () {
    const current = stored(desired);
    const grown = desiredIpSpace(
      {
        ...base,
        ipRanges: [
          { start: '203.0.113.10', end: '203.0.113.250' },
          { start: '203.0.113.251', end: '203.0.113.254' },
        ],
      },
      inputs,
    );
    const body = updateBody(grown, current);
    assertMatchesSpec('IpSpace', body);
    assert.deepEqual(
      body.ipSpaceRanges?.ipRanges.map((r) => r.id),
      ['range-0', undefined],
    );
    assert.deepEqual(
      body.ipSpacePrefixes?.flatMap((g) => g.ipPrefixSequence.map((q) => q.id)),
      ['seq-0-0', 'seq-0-1', 'seq-1-0'],
    );
    assert.equal(grown.ipSpaceRanges?.ipRanges[0]?.id, undefined, 'the desired body itself is not changed');
    assert.equal(body.ipSpaceRanges?.ipRanges[0]?.totalIpCount, undefined, 'read-only counters are not sent back');
  });
});
