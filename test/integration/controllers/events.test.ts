// Event-driven resync end to end: the simulator's MQTT broker publishes an event for every VCD
// write (API or admin endpoint, the stand-in for the VCD UI), the operator's subscription maps it
// to the keys that depend on it, and drift is repaired in seconds although resync is 10 minutes.
import assert from 'node:assert/strict';
import { parseMarker } from '../../../src/reconcile/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { VcdClient } from '../../../src/clients/vcd/index.ts';
import {
  createTenantConnection,
  edgeFirewallRule,
  floatingIPClaim,
  isReady,
  isSettled,
  resources,
  startTestOperator,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

interface ClaimObj extends KubeObject {
  status?: { address?: string; allocationId?: string; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}
interface ConnObj extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

const eventBusOf = (c: ConnObj | undefined) => c?.status?.conditions?.find((x) => x.type === 'EventBus');
const busIs =
  (status: string) =>
  (c: ConnObj | undefined): boolean =>
    eventBusOf(c)?.status === status;
const fast = { scanMs: 200, backoff: { initialDelayMs: 100, maxDelayMs: 500, multiplier: 2, jitter: 0.2 } };

function allocationsOf(sim: RunningSim, ns: string, name: string) {
  const all = sim.admin.state().vcd.ipSpaces.find((s) => s.name === 'public-ips')?.allocations ?? [];
  return all.filter((a) => {
    const m = parseMarker(a.description);
    return m?.namespace === ns && m.name === name;
  });
}

async function metric(op: TestOperator, name: string, labels: Record<string, string>): Promise<number> {
  const text = await op.manager.metrics.registry.metrics();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Releases the claim's allocation through the admin endpoint and waits for a new one, marked for it. */
async function releaseAndWaitRepair(sim: RunningSim, kube: KubeClient, ns: string, name: string, timeoutMs: number): Promise<number> {
  const before = await kube.get<ClaimObj>(resources.fip, name, ns);
  const old = before.status?.allocationId ?? '';
  assert.ok(old, 'the claim holds an allocation');
  const t0 = Date.now();
  sim.admin.releaseAllocation(old);
  assert.deepEqual(allocationsOf(sim, ns, name), []);
  await waitFor<ClaimObj>(kube, resources.fip, ns, name, (c) => !!c?.status?.allocationId && c.status.allocationId !== old && isSettled(c), timeoutMs);
  const held = allocationsOf(sim, ns, name);
  assert.equal(held.length, 1);
  assert.equal(held[0]?.usageState, 'USED_MANUAL');
  return Date.now() - t0;
}

describe('event-driven resync from the VCD message bus', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let kube: KubeClient;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    kube = userClient();
  });
  after(async function () {
    await sim?.stop();
  });

  describe('with resync at its 10 minute default', function () {
    let op: TestOperator;
    let ns: string;

    before(async function () {
      op = await startTestOperator({ operatorNamespace: await freshNamespace('op'), driftCheckMs: 600_000, events: fast });
      ns = await freshNamespace('events');
      await createTenantConnection(kube, sim, ns, { org: 'acme' });
      await kube.create(resources.fip, floatingIPClaim(ns, 'web', {}));
      await waitFor(kube, resources.fip, ns, 'web', isReady);
      await waitFor<ConnObj>(kube, resources.conn, ns, 'acme-conn', busIs('True'));
    });
    after(async function () {
      sim.admin.setMessagingAvailable(true);
      await op?.stop();
    });

    it('repairs an allocation released out of band within 2 s, and counts the keys its own writes enqueued', async function () {
      const before = await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'floatingipclaim', cause: 'event' });
      const ms = await releaseAndWaitRepair(sim, kube, ns, 'web', 5000);
      assert.ok(ms < 2000, `repaired in ${ms} ms`);
      assert.ok((await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'floatingipclaim', cause: 'event' })) > before);
      assert.ok((await metric(op, 'vcd_operator_event_bus_events_total', {})) > 0);
      // The repair's own allocate and mark published events too: counted as own writes.
      await waitFor(kube, resources.fip, ns, 'web', () => true);
      const own = await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'floatingipclaim', cause: 'own_write' });
      assert.ok(own > 0, 'own writes are counted');
    });

    it('shows an unreachable bus on the connection and in metrics, then catches up once when it returns', async function () {
      sim.admin.setMessagingAvailable(false);
      const down = await waitFor<ConnObj>(kube, resources.conn, ns, 'acme-conn', busIs('False'), 10_000);
      assert.equal(eventBusOf(down)?.reason, 'EventBusUnreachable');
      assert.match(eventBusOf(down)?.message ?? '', /periodic resync \(every 10 min\)/);
      assert.equal(await metric(op, 'vcd_operator_event_bus_connected', {}), 0);
      // Connected again, the subscription must present a fresh token: the old one is gone.
      sim.admin.expireSessions();

      const claim = await kube.get<ClaimObj>(resources.fip, 'web', ns);
      const old = claim.status?.allocationId ?? '';
      sim.admin.releaseAllocation(old);
      // No event reaches the operator: nothing repairs it while the bus is away.
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(allocationsOf(sim, ns, 'web'), []);
      const catchUps = await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'floatingipclaim', cause: 'catch_up' });

      const t0 = Date.now();
      sim.admin.setMessagingAvailable(true);
      await waitFor<ClaimObj>(kube, resources.fip, ns, 'web', (c) => !!c?.status?.allocationId && c.status.allocationId !== old && isReady(c), 10_000);
      const ms = Date.now() - t0;
      assert.ok(ms < 5000, `caught up in ${ms} ms`);
      assert.equal(allocationsOf(sim, ns, 'web').length, 1);
      assert.ok((await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'floatingipclaim', cause: 'catch_up' })) > catchUps);
      await waitFor<ConnObj>(kube, resources.conn, ns, 'acme-conn', busIs('True'), 10_000);
      assert.equal(await metric(op, 'vcd_operator_event_bus_connected', {}), 1);
      assert.equal(sim.admin.messaging().clients, 1);
    });
  });

  describe('firewall rules, resync at its 10 minute default', function () {
    let op: TestOperator;
    let ns: string;
    let provider: VcdClient;

    before(async function () {
      op = await startTestOperator({ operatorNamespace: await freshNamespace('op'), driftCheckMs: 600_000, events: fast });
      ns = await freshNamespace('events');
      await createTenantConnection(kube, sim, ns, { org: 'acme' });
      await waitFor<ConnObj>(kube, resources.conn, ns, 'acme-conn', busIs('True'));
      // Someone else, through the API the VCD UI uses.
      provider = await VcdClient.connect({ url: sim.vcd.url, org: 'System', auth: { apiToken: sim.credentials.provider.apiToken }, caPem: sim.caPem });
    });
    after(async function () {
      await provider?.close();
      await op?.stop();
    });

    it('puts back a managed rule deleted in VCD within 2 s, through an event on its edge gateway', async function () {
      await kube.create(resources.efw, edgeFirewallRule(ns, 'web', {}));
      const rule = await waitFor<KubeObject & { status?: { ruleId?: string; edgeGatewayId?: string } }>(kube, resources.efw, ns, 'web', isReady);
      const edgeId = rule?.status?.edgeGatewayId ?? '';
      const ruleId = rule?.status?.ruleId ?? '';
      assert.ok(edgeId && ruleId);
      const others = ((await provider.firewall.get(edgeId)).userDefinedRules ?? []).filter((r) => r.id !== ruleId);
      const t0 = Date.now();
      await provider.firewall.put(edgeId, others);
      for (;;) {
        const names = ((await provider.firewall.get(edgeId)).userDefinedRules ?? []).map((r) => r.name);
        if (names.includes(`${ns}/web`)) break;
        assert.ok(Date.now() - t0 < 5000, 'the rule is back within 5 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      const ms = Date.now() - t0;
      assert.ok(ms < 2000, `restored in ${ms} ms`);
      assert.ok((await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'edgefirewallrule', cause: 'event' })) > 0);
      await waitFor<KubeObject & { status?: { ruleId?: string } }>(kube, resources.efw, ns, 'web', (o) => isReady(o) && o?.status?.ruleId !== ruleId);
      await kube.delete(resources.efw, 'web', ns);
      await waitFor(kube, resources.efw, ns, 'web', (o) => o === undefined, 30_000);
    });
  });

  describe('with the bus away and a short resync', function () {
    let op: TestOperator;
    let ns: string;

    before(async function () {
      op = await startTestOperator({ operatorNamespace: await freshNamespace('op'), driftCheckMs: 4000, events: fast });
      ns = await freshNamespace('events');
      await createTenantConnection(kube, sim, ns, { org: 'acme' });
      await kube.create(resources.fip, floatingIPClaim(ns, 'api', {}));
      await waitFor(kube, resources.fip, ns, 'api', isReady);
    });
    after(async function () {
      sim.admin.setMessagingAvailable(true);
      await op?.stop();
    });

    it('falls back to periodic resync: drift is still repaired, at the resync', async function () {
      sim.admin.setMessagingAvailable(false);
      await waitFor<ConnObj>(kube, resources.conn, ns, 'acme-conn', busIs('False'), 10_000);
      const ms = await releaseAndWaitRepair(sim, kube, ns, 'api', 15_000);
      assert.ok(ms <= 4400 + 2000, `repaired at the resync, in ${ms} ms`);
      assert.equal(await metric(op, 'vcd_operator_event_keys_enqueued_total', { controller: 'floatingipclaim', cause: 'event' }), 0);
    });
  });
});
