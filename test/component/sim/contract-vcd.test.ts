// The simulated VCD held to the official 37.2 spec: every implemented spec operation is exercised
// here and each response validated (through VcdHttp), request bodies the tests build validate
// against the operations' body parameters, and the version-gate table equals the spec's
// x-vcloud-added-in annotations. Prints how many spec operations the simulator implements.
import assert from 'node:assert/strict';
import { SimCore } from '../../../src/sim/core/core.ts';
import { loadFixture } from '../../../src/sim/fixtures/fixture.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { FIELD_ADDED_IN, createVcdService } from '../../../src/sim/vcd/index.ts';
import { assertMatchesSpec, assertRequestMatchesSpec, findOperation, propertyAddedIn, specOperations } from './spec-contract.ts';
import { API, VcdHttp, exercisedOperations, idByName } from './vcd-http.ts';

/** The VCD routes the simulator serves, as `METHOD pattern`. */
function implementedRoutes(): Array<{ method: string; pattern: string }> {
  return createVcdService({ core: new SimCore(), fixture: loadFixture() }).routes.map((r) => ({ method: r.method, pattern: r.pattern }));
}

describe('simulated VCD: contract with the 37.2 spec', () => {
  describe('the spec helper', () => {
    const allocation = {
      id: 'urn:vcloud:ipSpaceIpAllocation:1',
      type: 'FLOATING_IP',
      value: '203.0.113.10',
      usageState: 'UNUSED',
      orgRef: { id: 'urn:vcloud:org:1', name: 'acme' },
    };

    it('accepts a valid instance and rejects unknown fields, wrong types and missing required fields', () => {
      assertMatchesSpec('IpSpaceIpAllocation', allocation);
      assert.throws(() => assertMatchesSpec('IpSpaceIpAllocation', { ...allocation, usage: 'UNUSED' }), /additional/);
      assert.throws(() => assertMatchesSpec('IpSpaceIpAllocation', { ...allocation, value: 7 }), /string/);
      assert.throws(() => assertMatchesSpec('Error', { message: 'no code' }), /minorErrorCode/);
      assert.throws(() => assertMatchesSpec('EdgeGateway', { name: 'e', edgeGatewayUplinks: [], status: 'DONE' }), /enum|allowed/);
      assert.throws(() => assertMatchesSpec('NoSuchThing', {}), /no definition/);
    });

    it('checks request bodies against the operation’s body parameter', () => {
      assertRequestMatchesSpec('POST', `${API}/ipSpaces/urn:vcloud:ipSpace:1/allocate`, { type: 'FLOATING_IP', quantity: 2 });
      assert.throws(() => assertRequestMatchesSpec('POST', `${API}/ipSpaces/urn:vcloud:ipSpace:1/allocate`, { quantity: 2 }), /type/);
      assert.throws(() => assertRequestMatchesSpec('GET', `${API}/ipSpaces/summaries`, {}), /takes no body/);
    });
  });

  describe('request bodies the tests send', () => {
    const rule = {
      name: 'r',
      actionValue: 'ALLOW',
      direction: 'IN_OUT',
      ipProtocol: 'IPV4',
      enabled: true,
      logging: false,
      appliedTo: { id: 'urn:vcloud:network:1' },
      comments: 'c',
      version: { version: 0 },
    };
    const cases: Array<[string, string, unknown]> = [
      ['POST', `${API}/ipSpaces/x/allocate`, { type: 'IP_PREFIX', quantity: 1, prefixLength: 28 }],
      ['POST', `${API}/ipSpaces/x/allocate`, { type: 'FLOATING_IP', value: '203.0.113.60-203.0.113.62' }],
      ['PUT', `${API}/ipSpaces/x/allocations/y`, { id: 'y', type: 'FLOATING_IP', value: '203.0.113.10', usageState: 'USED_MANUAL', description: 'marker' }],
      [
        'POST',
        `${API}/ipSpaces`,
        {
          name: 'team-ips',
          type: 'PUBLIC',
          ipSpaceInternalScope: ['192.0.2.0/24'],
          ipSpaceExternalScope: '0.0.0.0/0',
          ipSpaceRanges: { ipRanges: [{ startIpAddress: '192.0.2.10', endIpAddress: '192.0.2.20' }], defaultFloatingIpQuota: 3 },
          ipSpacePrefixes: [
            { ipPrefixSequence: [{ startingPrefixIpAddress: '198.51.100.0', prefixLength: 28, totalPrefixCount: 16 }], defaultQuotaForPrefixLength: 2 },
          ],
          routeAdvertisementEnabled: false,
        },
      ],
      [
        'PUT',
        `${API}/ipSpaces/orgAssignments/x`,
        {
          id: 'x',
          ipSpaceRef: { id: 's' },
          orgRef: { id: 'o', name: 'acme' },
          customQuotas: { floatingIpQuota: 12, ipPrefixQuotas: [{ prefixLength: 28, quota: 3 }] },
        },
      ],
      ['POST', `${API}/ipSpaceUplinks`, { name: 'u', externalNetworkRef: { id: 'n' }, ipSpaceRef: { id: 's' } }],
      [
        'PUT',
        `${API}/edgeGateways/x/firewall/rules`,
        { userDefinedRules: [rule, { ...rule, id: 'abc', destinationFirewallGroups: [{ id: 'g' }], applicationPortProfiles: [{ id: 'p' }] }] },
      ],
      ['PUT', `${API}/edgeGateways/x/firewall/rules/y`, rule],
      [
        'POST',
        `${API}/edgeGateways/x/routing/staticRoutes`,
        { name: 'd', networkCidr: '0.0.0.0/1', nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1, scope: { id: 'n', scopeType: 'NETWORK' } }] },
      ],
      ['POST', `${API}/firewallGroups`, { name: 'web', typeValue: 'IP_SET', ipAddresses: ['10.10.1.0/24', '10.10.1.10-10.10.1.20'], ownerRef: { id: 'e' } }],
      [
        'POST',
        `${API}/applicationPortProfiles`,
        { name: 'app', scope: 'TENANT', applicationPorts: [{ protocol: 'TCP', destinationPorts: ['8443', '9000-9010'] }] },
      ],
      [
        'POST',
        `${API}/edgeGateways`,
        {
          name: 'e',
          ownerRef: { id: 'v' },
          edgeGatewayUplinks: [{ uplinkId: 'n', subnets: { values: [{ gateway: '172.16.50.1', prefixLength: 24, primaryIp: '172.16.50.10' }] } }],
        },
      ],
      [
        'POST',
        `${API}/orgVdcNetworks`,
        {
          name: 'n',
          ownerRef: { id: 'v' },
          subnets: { values: [{ gateway: '10.30.0.1', prefixLength: 24 }] },
          connection: { routerRef: { id: 'e' }, connectionTypeValue: 'NON_DISTRIBUTED' },
        },
      ],
    ];
    for (const [method, path, body] of cases) {
      it(`${method} ${path.replace(API, '')}`, () => assertRequestMatchesSpec(method, path, body));
    }
  });

  describe('version gates', () => {
    it('strip exactly the fields the spec annotates as added after 36.2 on the definitions served', () => {
      for (const [definition, table] of Object.entries(FIELD_ADDED_IN)) {
        const spec = Object.fromEntries(Object.entries(propertyAddedIn(definition)).filter(([, v]) => Number(v) >= 36.2));
        assert.deepEqual(table, spec, definition);
      }
    });

    it('cover every field added after 37.0 on the definitions the simulator renders', () => {
      const rendered = [
        'Session',
        'EdgeGateway',
        'EdgeGatewayUplink',
        'FirewallRule',
        'EdgeFirewallRule',
        'ExternalNetwork',
        'ExternalNetworkBacking',
        'RouterConnection',
        'VdcNetwork',
        'IpSpace',
        'IpSpaceSummary',
        'IpSpaceIpAllocation',
        'IpSpaceIpAllocationRequest',
        'IpSpaceOrgAssignment',
        'IpSpaceUplink',
        'IpSpaceFloatingIpSuggestion',
        'FirewallGroupSummary',
        'FirewallGroupDetails',
        'ApplicationPortProfile',
        'EdgeStaticRoute',
        'Org',
        'OrgVdc',
      ];
      for (const d of rendered) {
        for (const [field, since] of Object.entries(propertyAddedIn(d))) {
          if (Number(since) > 37.0) assert.equal(FIELD_ADDED_IN[d]?.[field], since, `${d}.${field} (added in ${since}) is not gated`);
        }
      }
    });
  });

  describe('every implemented operation, exercised and validated', () => {
    let sim: RunningSim;
    let http: VcdHttp;
    before(async () => {
      sim = await startSimulator({ knobs: { taskDurationMs: 0 } });
      http = new VcdHttp(sim);
    });
    after(() => sim.stop());

    it('counts the spec operations the simulator implements', () => {
      const routes = implementedRoutes().filter((r) => r.pattern.startsWith('/cloudapi/'));
      const inSpec = new Set<string>();
      const outside: string[] = [];
      for (const r of routes) {
        const op = findOperation(r.method, r.pattern);
        if (op) inSpec.add(`${op.method} ${op.path}`);
        else outside.push(`${r.method} ${r.pattern}`);
      }
      const total = specOperations().length;
      console.log(`      simulator implements ${inSpec.size} of ${total} VCD CloudAPI 37.2 spec operations; outside the spec: ${outside.join(', ') || 'none'}`);
      assert.ok(inSpec.size >= 60, `only ${inSpec.size} operations`);
      assert.deepEqual(outside, ['DELETE /cloudapi/1.0.0/sessions'], 'only govcd’s logout quirk is served outside the spec');
    });

    it('answers every implemented spec operation with a spec-valid body', async () => {
      const provider = await http.login('provider');
      const acme = await http.login('acme');
      const send = async (method: string, path: string, token: string, body?: unknown): Promise<unknown> => {
        const res = await http.send(method, path, { token, ...(body === undefined ? {} : { body }) });
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
        return res.body;
      };
      const write = async (method: string, path: string, token: string, body?: unknown): Promise<string> => {
        const t = await http.write(method, path, token, body);
        assert.equal(t.status, 'success', `${method} ${path}: ${JSON.stringify(t.error)}`);
        return t.details ?? t.owner.id;
      };

      // Sessions and inventory.
      const session = (await send('GET', `${API}/sessions/current`, acme)) as { id: string };
      await send('GET', `${API}/sessions/${session.id}`, acme);
      const spare = await http.login('acme');
      const spareId = ((await send('GET', `${API}/sessions/current`, spare)) as { id: string }).id;
      await send('DELETE', `${API}/sessions/${spareId}`, spare);
      const doomed = await http.login('globex');
      await send('DELETE', `${API}/sessions/current`, doomed);
      const orgs = (await send('GET', `${API}/orgs`, provider)) as { values: Array<{ id: string; name: string }> };
      await send('GET', `${API}/orgs/${orgs.values[1]?.id ?? ''}`, provider);
      const vdcs = (await send('GET', `${API}/vdcs`, provider)) as { values: Array<{ id: string; name: string }> };
      const acmeVdc = vdcs.values.find((v) => v.name === 'acme-vdc')?.id ?? '';
      await send('GET', `${API}/vdcs/${acmeVdc}`, provider);
      const pg = await idByName(http, provider, `${API}/externalNetworks`, 'pg-public');
      const seg = await idByName(http, provider, `${API}/externalNetworks`, 'seg-transit');
      await send('GET', `${API}/externalNetworks/${seg}`, provider);

      // Edges and networks.
      const edge = await idByName(http, acme, `${API}/edgeGateways`, 'acme-edge');
      const edgeBody = (await send('GET', `${API}/edgeGateways/${edge}`, acme)) as Record<string, unknown>;
      await write('PUT', `${API}/edgeGateways/${edge}`, provider, { ...edgeBody, description: 'updated' });
      await send('GET', `${API}/edgeGateways/${edge}/usedIpAddresses`, acme);
      const newEdge = await write('POST', `${API}/edgeGateways`, provider, {
        name: 'contract-edge',
        ownerRef: { id: acmeVdc },
        edgeGatewayUplinks: [{ uplinkId: pg, subnets: { values: [] } }],
      });
      await write('DELETE', `${API}/edgeGateways/${newEdge}`, provider);
      const net = await write('POST', `${API}/orgVdcNetworks`, acme, {
        name: 'contract-net',
        ownerRef: { id: acmeVdc },
        subnets: { values: [{ gateway: '10.40.0.1', prefixLength: 24 }] },
        connection: { routerRef: { id: edge }, connectionTypeValue: 'NON_DISTRIBUTED' },
      });
      await send('GET', `${API}/orgVdcNetworks`, acme);
      await send('GET', `${API}/orgVdcNetworks/${net}`, acme);

      // Groups, profiles, firewall.
      const group = await write('POST', `${API}/firewallGroups`, acme, {
        name: 'g1',
        typeValue: 'IP_SET',
        ipAddresses: ['10.0.0.0/24'],
        ownerRef: { id: edge },
      });
      const groupBody = (await send('GET', `${API}/firewallGroups/${group}`, acme)) as Record<string, unknown>;
      await write('PUT', `${API}/firewallGroups/${group}`, acme, { ...groupBody, ipAddresses: ['10.0.1.0/24'] });
      await send('GET', `${API}/firewallGroups/summaries?filter=${encodeURIComponent(`_context==${edge}`)}`, acme);
      const profile = await write('POST', `${API}/applicationPortProfiles`, acme, {
        name: 'p1',
        scope: 'TENANT',
        applicationPorts: [{ protocol: 'TCP', destinationPorts: ['8443'] }],
      });
      const profileBody = (await send('GET', `${API}/applicationPortProfiles/${profile}`, acme)) as Record<string, unknown>;
      await write('PUT', `${API}/applicationPortProfiles/${profile}`, acme, {
        ...profileBody,
        applicationPorts: [{ protocol: 'UDP', destinationPorts: ['53'] }],
      });
      await send('GET', `${API}/applicationPortProfiles`, acme);
      const rule = {
        name: 'r1',
        actionValue: 'ALLOW',
        direction: 'IN',
        ipProtocol: 'IPV4',
        sourceFirewallGroups: [{ id: group }],
        applicationPortProfiles: [{ id: profile }],
        appliedTo: { id: seg },
      };
      await write('PUT', `${API}/edgeGateways/${edge}/firewall/rules`, acme, { userDefinedRules: [rule, { ...rule, name: 'r2', appliedTo: { id: net } }] });
      const container = (await send('GET', `${API}/edgeGateways/${edge}/firewall/rules`, acme)) as {
        userDefinedRules: Array<Record<string, unknown> & { id: string }>;
      };
      const r1 = container.userDefinedRules[0] as Record<string, unknown> & { id: string };
      await send('GET', `${API}/edgeGateways/${edge}/firewall/rules/${r1.id}`, acme);
      await write('PUT', `${API}/edgeGateways/${edge}/firewall/rules/${r1.id}`, acme, { ...r1, logging: true });
      await write('DELETE', `${API}/edgeGateways/${edge}/firewall/rules/${r1.id}`, acme);
      await write('DELETE', `${API}/edgeGateways/${edge}/firewall/rules`, acme);
      await write('DELETE', `${API}/firewallGroups/${group}`, acme);
      await write('DELETE', `${API}/applicationPortProfiles/${profile}`, acme);

      // Static routes.
      const routeBody = {
        name: 'sr',
        networkCidr: '0.0.0.0/1',
        nextHops: [{ ipAddress: '172.16.50.254', adminDistance: 1, scope: { id: seg, scopeType: 'NETWORK' } }],
      };
      const route = await write('POST', `${API}/edgeGateways/${edge}/routing/staticRoutes`, acme, routeBody);
      await send('GET', `${API}/edgeGateways/${edge}/routing/staticRoutes`, acme);
      const routeGot = (await send('GET', `${API}/edgeGateways/${edge}/routing/staticRoutes/${route}`, acme)) as Record<string, unknown>;
      await write('PUT', `${API}/edgeGateways/${edge}/routing/staticRoutes/${route}`, acme, { ...routeGot, description: 'x' });
      await write('DELETE', `${API}/edgeGateways/${edge}/routing/staticRoutes/${route}`, acme);
      await write('DELETE', `${API}/orgVdcNetworks/${net}`, acme);

      // IP Spaces.
      const space = await idByName(http, acme, `${API}/ipSpaces/summaries`, 'public-ips');
      const spaceBody = (await send('GET', `${API}/ipSpaces/${space}`, provider)) as Record<string, unknown>;
      await write('PUT', `${API}/ipSpaces/${space}`, provider, { ...spaceBody, description: 'updated' });
      const [alloc] = JSON.parse(
        (await http.write('POST', `${API}/ipSpaces/${space}/allocate`, acme, { type: 'FLOATING_IP', quantity: 1 })).resultContent ?? '[]',
      ) as Array<{ id: string }>;
      await send('GET', `${API}/ipSpaces/${space}/allocations?filter=type==FLOATING_IP`, acme);
      const allocBody = (await send('GET', `${API}/ipSpaces/${space}/allocations/${alloc?.id ?? ''}`, acme)) as Record<string, unknown>;
      await write('PUT', `${API}/ipSpaces/${space}/allocations/${alloc?.id ?? ''}`, acme, { ...allocBody, usageState: 'USED_MANUAL', description: 'm' });
      await send('GET', `${API}/ipSpaces/floatingIpSuggestions?filter=${encodeURIComponent(`gatewayId==${edge}`)}`, acme);
      await write('DELETE', `${API}/ipSpaces/${space}/allocations/${alloc?.id ?? ''}`, acme);
      const newSpace = await write('POST', `${API}/ipSpaces`, provider, {
        name: 'c-space',
        type: 'PUBLIC',
        ipSpaceInternalScope: ['192.0.2.0/24'],
        ipSpaceRanges: { ipRanges: [{ startIpAddress: '192.0.2.1', endIpAddress: '192.0.2.9' }] },
      });
      const uplink = await write('POST', `${API}/ipSpaceUplinks`, provider, { name: 'c-uplink', externalNetworkRef: { id: pg }, ipSpaceRef: { id: newSpace } });
      await send('GET', `${API}/ipSpaceUplinks?filter=${encodeURIComponent(`externalNetworkRef.id==${pg}`)}`, provider);
      const uplinkBody = (await send('GET', `${API}/ipSpaceUplinks/${uplink}`, provider)) as Record<string, unknown>;
      await write('PUT', `${API}/ipSpaceUplinks/${uplink}`, provider, { ...uplinkBody, description: 'x' });
      const assignments = (await send('GET', `${API}/ipSpaces/orgAssignments?filter=${encodeURIComponent(`ipSpaceRef.id==${newSpace}`)}`, provider)) as {
        values: Array<{ id: string; orgRef: { id: string } }>;
      };
      const first = assignments.values[0] as { id: string; orgRef: { id: string } };
      const assignmentBody = (await send('GET', `${API}/ipSpaces/orgAssignments/${first.id}`, provider)) as Record<string, unknown>;
      await write('PUT', `${API}/ipSpaces/orgAssignments/${first.id}`, provider, { ...assignmentBody, customQuotas: { floatingIpQuota: 2 } });
      await write('DELETE', `${API}/ipSpaces/orgAssignments/${first.id}`, provider);
      await write('POST', `${API}/ipSpaces/orgAssignments`, provider, { ipSpaceRef: { id: newSpace }, orgRef: first.orgRef });
      await write('DELETE', `${API}/ipSpaceUplinks/${uplink}`, provider);
      await write('DELETE', `${API}/ipSpaces/${newSpace}`, provider);

      // Errors have the Error shape too (VcdHttp validated every one of these).
      assert.equal((await http.send('GET', `${API}/ipSpaces/urn:vcloud:ipSpace:unknown`, { token: acme })).status, 403);

      const expected = new Set<string>();
      for (const r of implementedRoutes()) {
        const op = findOperation(r.method, r.pattern);
        if (op && r.pattern.startsWith('/cloudapi/')) expected.add(`${op.method} ${op.path}`);
      }
      // Logins are checked too: POST /sessions and /sessions/provider happen in login().
      const missing = [...expected].filter((op) => !exercisedOperations.has(op));
      assert.deepEqual(missing, [], 'implemented operations this scenario did not exercise');
    });
  });
});
