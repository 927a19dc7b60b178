// The project's NSX client against the simulated NSX: the two were written from the same notes by
// different people, so this proves they agree on auth, revisions, paging and routing objects.
import assert from 'node:assert/strict';
import { NsxClient, NsxStaleRevisionError } from '../../../src/clients/nsx/index.ts';
import { SimCore, serveRoutes, type ServedRoutes } from '../../../src/sim/core/index.ts';
import { createNsxService, type NsxService } from '../../../src/sim/nsx/index.ts';
import { createCA } from '../../../src/sim/pki.ts';

describe('NSX client against the simulated NSX', () => {
  const clock = {
    t: Date.now(),
    now(): number {
      return this.t;
    },
  };
  let caPem: string;
  let nsx: NsxService;
  let core: SimCore;
  let served: ServedRoutes;
  const clients: NsxClient[] = [];

  const connect = async (authMode: 'session' | 'basic' = 'session'): Promise<NsxClient> => {
    const client = await NsxClient.connect({ url: served.url, username: 'admin', password: 'VMware1!VMware1!', caPem, authMode, retry: { maxAttempts: 1 } });
    clients.push(client);
    return client;
  };

  before(async () => {
    const ca = await createCA('interop CA');
    caPem = ca.certPem;
    const tls = await ca.issueServer({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    core = new SimCore({ clock });
    nsx = createNsxService({ username: 'admin', password: 'VMware1!VMware1!', clock });
    served = await serveRoutes({ service: 'nsx', instance: 'nsx', routes: nsx.routes, tls, core, notFound: nsx.notFound, faultBody: nsx.faultBody });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await served.close();
  });
  beforeEach(() => {
    nsx.reset();
    core.resetObservations();
    nsx.ensureTier0('t0', 'Provider T0');
  });

  it('reconciles prefix list, route map and redistribution the way the operator will', async () => {
    const client = await connect();
    const pl = '/infra/tier-0s/t0/prefix-lists/ip-spaces';
    const rm = '/infra/tier-0s/t0/route-maps/ip-spaces';
    await client.reconcilePrefixList('t0', 'ip-spaces', { desired: [{ network: '203.0.113.0/24', action: 'PERMIT', le: 32 }], owns: () => true });
    await client.reconcileRouteMap('t0', 'ip-spaces', { desired: [{ action: 'PERMIT', prefix_list_matches: [pl] }], owns: () => true });
    const vcdRule = { name: 'vcd', route_redistribution_types: ['TIER1_CONNECTED'] };
    await client.patch('/infra/tier-0s/t0/locale-services/default', { route_redistribution_config: { redistribution_rules: [vcdRule] } });
    const ours = { name: 'ip-spaces', route_redistribution_types: ['TIER1_NAT', 'TIER1_STATIC'], route_map_path: rm };
    const result = await client.reconcileRedistribution('t0', 'default', { desired: [ours], owns: (r) => r.name === 'ip-spaces' });
    assert.equal(result.changed, true);
    const stored = nsx.get('/infra/tier-0s/t0/locale-services/default')?.route_redistribution_config as { redistribution_rules: unknown[] };
    assert.deepEqual(stored.redistribution_rules, [vcdRule, ours]);
    // A second reconcile with the same intent writes nothing.
    const writes = core.audit().length;
    assert.equal((await client.reconcileRedistribution('t0', 'default', { desired: [ours], owns: (r) => r.name === 'ip-spaces' })).changed, false);
    assert.equal(core.audit().length, writes);
  });

  it('re-reads and retries when the simulator refuses a stale _revision', async () => {
    const client = await connect('basic');
    nsx.ensureTier1('edge-1', 'edge-1', '/infra/tier-0s/t0');
    let reads = 0;
    const res = await client.update<{ description?: string }>('/infra/tier-1s/edge-1', (current) => {
      reads++;
      // Someone else (VCD) writes between our read and our PUT, once.
      if (reads === 1) nsx.ensureTier1('edge-1', 'renamed by VCD', '/infra/tier-0s/t0');
      return { ...current, description: 'managed' };
    });
    assert.equal(reads, 2);
    assert.equal(res.changed, true);
    const t1 = nsx.get('/infra/tier-1s/edge-1');
    assert.deepEqual([t1?.display_name, t1?.description, t1?._revision], ['renamed by VCD', 'managed', 2]);
    assert.equal(core.callCount('PUT /policy/api/v1/infra/tier-1s/{id}', 'nsx'), 2);
    await assert.rejects(client.put('/infra/tier-1s/edge-1', { _revision: 0 }), NsxStaleRevisionError);
  });

  it('rebuilds an expired session and reads interface statistics', async () => {
    const client = await connect();
    nsx.ensureTier1('edge-1', 'edge-1', '/infra/tier-0s/t0');
    const path = nsx.addTier1Interface('edge-1', 'svc', { segmentPath: '/infra/segments/s', subnets: [{ ip_addresses: ['192.0.2.1'], prefix_len: 24 }] });
    nsx.setTrafficRate(path, { rxBytesPerSecond: 100, txBytesPerSecond: 0 });
    const first = await client.interfaceStatisticsSummary(path);
    clock.t += 45 * 60_000; // past the idle timeout
    const second = await client.interfaceStatisticsSummary(path);
    assert.equal((second.rx?.total_bytes ?? 0) - (first.rx?.total_bytes ?? 0), 45 * 60 * 100);
    assert.equal(core.callCount('POST /api/session/create', 'nsx'), 2);
  });
});
