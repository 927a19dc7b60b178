// The static-route plan: which default routes are split, and that an edit is an in-place update.
import assert from 'node:assert/strict';
import { defaultRouteHalves, desiredRoutes, planRoutes } from '../../../src/controllers/routing/static-route-plan.ts';

const segment = { id: 'urn:vcloud:network:seg', name: 'seg-transit', segment: true };
const orgNet = { id: 'urn:vcloud:network:web', name: 'acme-web', segment: false };

describe('static route plan', function () {
  it('splits a default route of either family into its two /1 halves', function () {
    assert.deepEqual(defaultRouteHalves('0.0.0.0/0'), ['0.0.0.0/1', '128.0.0.0/1']);
    assert.deepEqual(defaultRouteHalves('::/0'), ['::/1', '8000::/1']);
    assert.equal(defaultRouteHalves('10.0.0.0/8'), undefined);
  });

  it('splits only when a next hop is on a segment-backed network', function () {
    const base = { name: 'r', description: 'd', destination: '::/0' };
    const viaSegment = desiredRoutes({ ...base, hops: [{ ipAddress: '2001:db8::1', adminDistance: 1, scope: segment }] });
    assert.equal(viaSegment.split, true);
    assert.deepEqual(
      viaSegment.routes.map((r) => [r.name, r.networkCidr]),
      [
        ['r [::/1]', '::/1'],
        ['r [8000::/1]', '8000::/1'],
      ],
    );
    const viaOrgNet = desiredRoutes({ ...base, hops: [{ ipAddress: '2001:db8::1', adminDistance: 1, scope: orgNet }] });
    assert.equal(viaOrgNet.split, false);
    assert.deepEqual(
      viaOrgNet.routes.map((r) => r.networkCidr),
      ['::/0'],
    );
  });

  it('updates our routes in place with the version read, leaves matching ones, removes the unwanted', function () {
    const want = desiredRoutes({
      name: 'r',
      description: 'd',
      destination: '0.0.0.0/0',
      hops: [{ ipAddress: '172.16.50.1', adminDistance: 5, scope: segment }],
    });
    const hop = (ad: number) => [{ ipAddress: '172.16.50.1', adminDistance: ad, scope: { id: segment.id, name: segment.name, scopeType: 'NETWORK' as const } }];
    const plan = planRoutes(want.routes, [
      { id: 'a', name: 'r [0.0.0.0/1]', description: 'd', networkCidr: '0.0.0.0/1', nextHops: hop(1), version: '3' },
      { id: 'b', name: 'r [128.0.0.0/1]', description: 'd', networkCidr: '128.0.0.0/1', nextHops: hop(5), version: { version: 0 } },
      { id: 'c', name: 'r', description: 'd', networkCidr: '0.0.0.0/0', nextHops: hop(1) },
    ]);
    assert.deepEqual(plan.create, []);
    assert.deepEqual(
      plan.update.map((u) => [u.id, u.body.version]),
      [['a', { version: 3 }]],
      'a string version is read leniently and sent as the object',
    );
    assert.deepEqual(plan.unchanged, ['b']);
    assert.deepEqual(
      plan.remove.map((r) => r.id),
      ['c'],
    );
  });
});
