// The request bodies the VCD client sends, as the simulator's audit log recorded them, validate
// against the official 37.2 spec (closed objects: an invented or misspelt field fails).
import assert from 'node:assert/strict';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { VcdClient, type EdgeFirewallRule } from '../../../src/clients/vcd/index.ts';
import { assertRequestMatchesSpec } from '../sim/spec-contract.ts';
import { fastBusyRetry, fastPoll, fastRetry } from './helpers.ts';

describe('VCD client request bodies match the 37.2 spec', function () {
  this.timeout(30_000);
  let sim: RunningSim;

  before(async () => {
    sim = await startSimulator({ knobs: { latencyMs: 0, taskDurationMs: 10 } });
  });
  after(async () => {
    await sim.stop();
  });

  it('sends spec-valid allocate, allocation PUT, IP Space create/update, org assignment, firewall, group, static route and edge bodies', async () => {
    const provider = await VcdClient.connect({
      url: sim.vcd.url,
      org: 'System',
      auth: { apiToken: sim.credentials.provider.apiToken },
      caPem: sim.caPem,
      retry: fastRetry,
      busyRetry: fastBusyRetry,
      taskPoll: fastPoll,
    });
    try {
      const acme = provider.forOrg('acme');
      const space = (await provider.ipSpaces.findByName('public-ips'))!;
      const edge = (await acme.edgeGateways.findByName('acme-edge'))!;

      // IP Spaces: allocate by quantity, by value and by prefix length; mark; custom quota; create/update.
      const [fip] = await acme.ipSpaces.allocate(space.id!, { type: 'FLOATING_IP', quantity: 1 });
      await acme.ipSpaces.allocate(space.id!, { type: 'FLOATING_IP', value: '203.0.113.200' });
      await acme.ipSpaces.allocate(space.id!, { type: 'IP_PREFIX', prefixLength: 28 });
      const alloc = await acme.ipSpaces.allocations.get(space.id!, fip!.id);
      await acme.ipSpaces.allocations.update(space.id!, fip!.id, { ...alloc, usageState: 'USED_MANUAL', description: 'vcd-operator marker' });
      const [assignment] = await provider.ipSpaces.orgAssignments.list({ ipSpaceId: space.id!, orgId: edge.orgRef!.id! });
      await provider.ipSpaces.orgAssignments.update(assignment!.id!, { floatingIpQuota: 20, ipPrefixQuotas: [{ prefixLength: 28, quota: 3 }] });
      const created = await provider.ipSpaces.create({
        name: 'contract-space',
        type: 'PUBLIC',
        ipSpaceInternalScope: ['192.0.2.0/24'],
        ipSpaceExternalScope: '0.0.0.0/0',
        routeAdvertisementEnabled: false,
        ipSpaceRanges: { ipRanges: [{ startIpAddress: '192.0.2.10', endIpAddress: '192.0.2.20' }], defaultFloatingIpQuota: 2 },
        ipSpacePrefixes: [
          { ipPrefixSequence: [{ startingPrefixIpAddress: '192.0.2.128', prefixLength: 28, totalPrefixCount: 4 }], defaultQuotaForPrefixLength: 1 },
        ],
      });
      await provider.ipSpaces.update(created.id!, { ...(await provider.ipSpaces.get(created.id!)), description: 'updated' });

      // Firewall: an IP set, a port profile, appliedTo on the segment-backed service interface.
      const group = await acme.firewallGroups.create({
        name: 'web-servers',
        typeValue: 'IP_SET',
        ipAddresses: ['10.0.0.10', '10.0.1.0/24'],
        ownerRef: { id: edge.id! },
      });
      await acme.firewallGroups.update(group.id!, { ...group, ipAddresses: ['10.0.0.11'] });
      const https = (await acme.applicationPortProfiles.list({ filter: 'name==HTTPS' }))[0];
      const segment = edge.edgeGatewayUplinks.find((u) => u.backingType === 'IMPORTED_T_LOGICAL_SWITCH');
      assert.ok(https?.id && segment?.uplinkId, 'the fixture has an HTTPS profile and a segment-backed uplink');
      const rules: EdgeFirewallRule[] = [
        {
          name: 'allow-web',
          description: 'managed',
          comments: 'vcd-operator:c1/ns/allow-web',
          actionValue: 'ALLOW',
          direction: 'IN',
          ipProtocol: 'IPV4',
          logging: true,
          enabled: true,
          destinationFirewallGroups: [{ id: group.id!, name: group.name }],
          applicationPortProfiles: [{ id: https.id, name: https.name }],
          appliedTo: { id: segment.uplinkId, name: segment.uplinkName ?? '' },
        },
      ];
      const stored = await acme.firewall.put(edge.id!, rules);
      await acme.firewall.put(edge.id!, [...(stored.userDefinedRules ?? []), { name: 'drop-rest', actionValue: 'DROP' }]);
      await acme.firewall.put(edge.id!, []);
      assert.equal(await acme.firewallGroups.delete(group.id!, { edgeGatewayId: edge.id! }), true);

      // Static routes: create (id from Task.Details), update in place with the version read.
      const routeId = await acme.staticRoutes.create(edge.id!, {
        name: 'default [0.0.0.0/1]',
        description: 'vcd-operator marker',
        networkCidr: '0.0.0.0/1',
        nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1, scope: { id: segment.uplinkId, name: segment.uplinkName ?? '', scopeType: 'NETWORK' } }],
      });
      const route = await acme.staticRoutes.get(edge.id!, routeId);
      await acme.staticRoutes.update(edge.id!, routeId, { ...route, nextHops: [{ ...route.nextHops[0]!, adminDistance: 5 }] });
      assert.equal(await acme.staticRoutes.delete(edge.id!, routeId), true);

      // A segment-backed uplink attached and detached by a whole-edge read-modify-write.
      const colo = (await provider.externalNetworks.findByName('seg-colo'))!;
      const subnet = { gateway: '172.16.60.1', prefixLength: 24, primaryIp: '172.16.60.10', enabled: true, autoAllocateIpRanges: true, totalIpCount: 2 };
      await provider.edgeGateways.modify(edge.id!, (e) => ({
        ...e,
        edgeGatewayUplinks: [...e.edgeGatewayUplinks, { uplinkId: colo.id, uplinkName: colo.name, subnets: { values: [subnet] }, connected: true }],
      }));
      await provider.edgeGateways.modify(edge.id!, (e) => ({ ...e, edgeGatewayUplinks: e.edgeGatewayUplinks.filter((u) => u.uplinkId !== colo.id) }));

      const writes = sim.admin.audit().filter((e) => e.service === 'vcd' && e.path.startsWith('/cloudapi/') && e.body !== undefined);
      const routes = new Set(writes.map((w) => w.route));
      for (const expected of [
        'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate',
        'PUT /cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}',
        'POST /cloudapi/1.0.0/ipSpaces',
        'PUT /cloudapi/1.0.0/ipSpaces/{id}',
        'PUT /cloudapi/1.0.0/ipSpaces/orgAssignments/{id}',
        'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules',
        'POST /cloudapi/1.0.0/firewallGroups',
        'PUT /cloudapi/1.0.0/firewallGroups/{id}',
        'POST /cloudapi/1.0.0/edgeGateways/{id}/routing/staticRoutes',
        'PUT /cloudapi/1.0.0/edgeGateways/{id}/routing/staticRoutes/{routeId}',
        'PUT /cloudapi/1.0.0/edgeGateways/{id}',
      ]) {
        assert.ok(routes.has(expected), `the run sent ${expected} (saw ${[...routes].join(', ')})`);
      }
      for (const w of writes) assertRequestMatchesSpec(w.method, w.path, w.body);
    } finally {
      await provider.close();
    }
  });
});
