// What one IP Space's prefix list admits, and which route-map entries are ours.
import assert from 'node:assert/strict';
import { ownsRouteMapEntry, prefixEntries, routeMapEntries } from '../../../src/controllers/routing/advertisement-plan.ts';

describe('Tier-0 advertisement plan', function () {
  it('admits per scope the prefix lengths handed out from it: sequences, and /32 where floating IPs are', function () {
    assert.deepEqual(
      prefixEntries({
        internalScope: ['203.0.113.0/24', '198.51.100.0/22', '192.0.2.0/24'],
        ipRanges: [{ start: '203.0.113.10', end: '203.0.113.20' }],
        prefixSequences: [
          { startCIDR: '198.51.100.0/28', count: 4 },
          { startCIDR: '198.51.102.0/26', count: 2 },
        ],
      }),
      [
        { network: '203.0.113.0/24', action: 'PERMIT', ge: 32, le: 32 },
        { network: '198.51.100.0/22', action: 'PERMIT', ge: 26, le: 28 },
        { network: '192.0.2.0/24', action: 'PERMIT', le: 32 },
      ],
    );
    assert.deepEqual(prefixEntries({ internalScope: ['2001:db8::/48'], prefixSequences: [{ startCIDR: '2001:db8::/64', count: 16 }] }), [
      { network: '2001:db8::/48', action: 'PERMIT', ge: 64, le: 64 },
    ]);
  });

  it('owns only route-map entries that match nothing but our prefix lists', function () {
    const [ours] = routeMapEntries('t0', ['vcd-operator-ipspace-1']);
    assert.ok(ours && ownsRouteMapEntry(ours));
    assert.equal(ownsRouteMapEntry({ action: 'PERMIT', prefix_list_matches: ['/infra/tier-0s/t0/prefix-lists/IP-SPACES-ROUTING'] }), false);
    assert.equal(ownsRouteMapEntry({ action: 'PERMIT', community_list_matches: [{ criteria: '65000:1', match_operator: 'MATCH_ANY' }] }), false);
  });
});
