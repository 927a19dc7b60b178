// TrafficMeter end to end: the operator reads the simulator's NSX interface statistics of tenant
// edges and exports them on /metrics. Traffic is added in exact amounts (the rate knob at zero),
// so the tests can say what each counter must read across an edge reboot and a failover.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TrafficMeterResource } from '../../../src/api/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { edgesFixture, startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createNsxConnection,
  createProviderConnection,
  startTestOperator,
  uniqueName,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

interface Meter extends KubeObject {
  status?: {
    lastPollTime?: string;
    edges?: Array<{ org: string; edgeGateway: string; rxBytes: number; txBytes: number; interfaces: number }>;
    unreadable?: string[];
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

const T1_IF_STATS = 'GET /policy/api/v1/infra/tier-1s/{gw}/locale-services/{ls}/interfaces/{id}/statistics';

async function counter(op: TestOperator, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await op.manager.metrics.registry.metrics();
  let found: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) found = (found ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found;
}

describe('TrafficMeter', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let kube: KubeClient;
  let op: TestOperator;
  let meter: string;
  let t0: string;
  let acmeT1: string;
  let link: string;
  let vcdConn: string;
  let nsxConn: string;

  /** Waits until two more polls have ended, so a change made now has been read. */
  async function twoPolls(): Promise<Meter | undefined> {
    const seen = (await kube.get<Meter>(TrafficMeterResource, meter)).status?.lastPollTime ?? '';
    let polls = 0;
    let last = seen;
    return waitFor<Meter>(
      kube,
      TrafficMeterResource,
      undefined,
      meter,
      (m) => {
        const t = m?.status?.lastPollTime ?? '';
        if (t && t !== last) {
          polls++;
          last = t;
        }
        return polls >= 2;
      },
      20_000,
    );
  }

  const acmeDownlink = (direction: string) =>
    counter(op, 'vcd_operator_traffic_bytes_total', { org: 'acme', edge_gateway: 'acme-edge', meter_point: 'Tier0Downlink', direction });

  before(async function () {
    sim = await startSimulator({ fixture: edgesFixture({ dedicated: 1, prefix: 'acme' }), knobs: { taskDurationMs: 30 } });
    sim.admin.setTrafficRate({ rxBytesPerSecond: 0, txBytesPerSecond: 0 });
    kube = userClient();
    const opNs = await freshNamespace('op');
    op = await startTestOperator({ operatorNamespace: opNs, events: false });
    const vcd = (vcdConn = await createProviderConnection(kube, sim, opNs));
    const nsx = (nsxConn = await createNsxConnection(kube, sim, opNs));
    const state = sim.admin.state();
    acmeT1 = `/infra/tier-1s/${state.vcd.edges.find((e) => e.name === 'acme-edge')?.backingId ?? ''}`;
    const t1 = state.nsx.objects.find((o) => o.path === acmeT1);
    t0 = typeof t1?.tier0_path === 'string' ? t1.tier0_path : '';
    assert.match(t0, /^\/infra\/tier-0s\//);
    link = `${t0}/tier-1-interface${acmeT1}`;
    meter = uniqueName('meter');
    await kube.create(TrafficMeterResource, {
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'TrafficMeter',
      metadata: { name: meter },
      spec: { nsxConnectionRef: { name: nsx }, vcdConnectionRef: { name: vcd }, meterPoints: ['Tier0Downlink', 'Tier1ServiceInterface'], intervalSeconds: 2 },
    } as KubeObject);
    await waitFor<Meter>(kube, TrafficMeterResource, undefined, meter, (m) => !!m?.status?.lastPollTime, 30_000);
  });
  after(async function () {
    await op?.stop();
    await sim?.stop();
  });

  it('exports per-edge counters and status totals for every metered edge', async function () {
    sim.admin.addTraffic(link, { rxBytes: 1000, txBytes: 400, rxDroppedPackets: 3 });
    const m = await twoPolls();
    assert.equal(await acmeDownlink('rx'), 1000);
    assert.equal(await acmeDownlink('tx'), 400);
    assert.equal(
      await counter(op, 'vcd_operator_traffic_dropped_packets_total', { edge_gateway: 'acme-edge', meter_point: 'Tier0Downlink', direction: 'rx' }),
      3,
    );
    // Both tenant edges are metered; globex saw no traffic but is exported at zero.
    assert.equal(
      await counter(op, 'vcd_operator_traffic_bytes_total', { org: 'globex', edge_gateway: 'globex-edge', meter_point: 'Tier0Downlink', direction: 'rx' }),
      0,
    );
    const acme = m?.status?.edges?.find((e) => e.edgeGateway === 'acme-edge');
    assert.equal(acme?.org, 'acme');
    assert.equal(acme?.rxBytes, 1000);
    assert.equal(acme?.interfaces, 2, 'the downlink and the service interface on seg-transit');
    const ready = m?.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
  });

  it('keeps counting across an edge reboot and a failover: never backwards, never twice', async function () {
    const rx0 = (await acmeDownlink('rx')) ?? 0;
    // Reboot: every node's counters restart from zero, then 300 bytes pass.
    assert.ok(sim.admin.nsxResetCounters(t0) > 0);
    sim.admin.addTraffic(link, { rxBytes: 300 });
    await twoPolls();
    assert.equal(await acmeDownlink('rx'), rx0 + 300);
    // Failover: the standby takes over with fresh counters; the old active's stay where they were.
    assert.ok(sim.admin.nsxFailover(t0) > 0);
    sim.admin.addTraffic(link, { rxBytes: 500 });
    await twoPolls();
    assert.equal(await acmeDownlink('rx'), rx0 + 800);
    // And back: the first node restarts from zero too.
    sim.admin.nsxFailover(t0);
    sim.admin.addTraffic(link, { rxBytes: 70 });
    await twoPolls();
    assert.equal(await acmeDownlink('rx'), rx0 + 870);
    const m = await kube.get<Meter>(TrafficMeterResource, meter);
    assert.equal(m.status?.edges?.find((e) => e.edgeGateway === 'acme-edge')?.rxBytes, rx0 + 870);
  });

  it('ships a Grafana dashboard whose every query uses metrics and labels /metrics exports', async function () {
    interface Panel {
      id: number;
      type: string;
      title: string;
      gridPos: { x: number; y: number; w: number; h: number };
      targets: Array<{ refId: string; expr: string }>;
    }
    const dash = JSON.parse(readFileSync(new URL('../../../deploy/grafana/vcd-operator-traffic.json', import.meta.url), 'utf8')) as {
      uid: string;
      title: string;
      panels: Panel[];
      templating: { list: Array<{ name: string; type: string; query: unknown }> };
    };
    assert.ok(dash.uid && dash.title);
    assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'panel ids are unique');
    for (const p of ['Traffic per tenant', 'Top talkers', 'Dropped packets'])
      assert.ok(
        dash.panels.some((x) => x.title.startsWith(p)),
        `a panel "${p}"`,
      );
    const exprs: string[] = [];
    for (const p of dash.panels) {
      assert.ok(p.type && p.gridPos.w > 0 && p.gridPos.h > 0, `panel ${p.title} is laid out`);
      assert.ok(p.targets.length > 0, `panel ${p.title} has queries`);
      for (const t of p.targets) exprs.push(t.expr);
    }
    for (const v of dash.templating.list) if (v.type === 'query') exprs.push((v.query as { query: string }).query);

    const text = await op.manager.metrics.registry.metrics();
    const declared = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const samples = (name: string) => text.split('\n').filter((l) => l.startsWith(`${name}{`));
    let checked = 0;
    for (const expr of exprs) {
      const names = [...expr.matchAll(/\b((?:vcd_operator|controller_runtime|workqueue)_[a-z0-9_]+)\b/g)].map((m) => m[1] as string);
      assert.ok(names.length > 0, `query ${expr} names a metric of the operator`);
      const labels = [...expr.matchAll(/(?:by|label_values)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((x) => x.trim().replace(/\{.*$/, '')));
      for (const name of names) {
        assert.ok(declared.has(name), `${name} (in ${expr}) is exported on /metrics`);
        const lines = samples(name);
        for (const label of labels.filter((l) => /^[a-z_]+$/.test(l) && !names.includes(l))) {
          if (lines.length)
            assert.ok(
              lines.some((l) => l.includes(`${label}="`)),
              `${name} has the label ${label} used by ${expr}`,
            );
        }
        checked++;
      }
    }
    assert.ok(checked >= 10);
    // Recorded data: the traffic series the dashboard graphs exist with the labels it groups by.
    assert.ok(samples('vcd_operator_traffic_bytes_total').some((l) => /org="acme".*edge_gateway="acme-edge".*meter_point="Tier0Downlink"/.test(l)));
  });

  it("meters a Tier-0 uplink where the Tier-0 is one edge's alone, and names shared ones as not one tenant's traffic", async function () {
    const state = sim.admin.state();
    const dedicated = state.vcd.edges.find((e) => e.name === 'acme-dedicated-0');
    const t1 = state.nsx.objects.find((o) => o.path === `/infra/tier-1s/${dedicated?.backingId ?? ''}`);
    const t0Path = typeof t1?.tier0_path === 'string' ? t1.tier0_path : '';
    assert.notEqual(t0Path, t0, 'the dedicated edge has a Tier-0 of its own');
    const uplink = state.nsx.objects.find((o) => o.resource_type === 'Tier0Interface' && o.path?.startsWith(`${t0Path}/`) && o.type === 'EXTERNAL')?.path ?? '';
    assert.ok(uplink, `${t0Path} has an EXTERNAL interface`);
    const name = uniqueName('uplinks');
    await kube.create(TrafficMeterResource, {
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'TrafficMeter',
      metadata: { name },
      spec: { nsxConnectionRef: { name: nsxConn }, vcdConnectionRef: { name: vcdConn }, meterPoints: ['Tier0Uplink'], intervalSeconds: 2 },
    } as KubeObject);
    try {
      await waitFor<Meter>(kube, TrafficMeterResource, undefined, name, (m) => !!m?.status?.lastPollTime, 30_000);
      // Traffic on the shared Tier-0's uplink is every tenant's: it must show on no edge.
      const shared = state.nsx.objects.find((o) => o.resource_type === 'Tier0Interface' && o.path?.startsWith(`${t0}/`) && o.type === 'EXTERNAL')?.path ?? '';
      sim.admin.addTraffic(shared, { rxBytes: 5000 });
      sim.admin.addTraffic(uplink, { rxBytes: 700, txBytes: 300 });
      const uplinkOf = (edge: string, direction: string) =>
        counter(op, 'vcd_operator_traffic_bytes_total', { org: 'acme', edge_gateway: edge, meter_point: 'Tier0Uplink', direction });
      const deadline = Date.now() + 20_000;
      while ((await uplinkOf('acme-dedicated-0', 'rx')) !== 700) {
        assert.ok(Date.now() < deadline, `the dedicated uplink's 700 bytes counted (${await uplinkOf('acme-dedicated-0', 'rx')})`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(await uplinkOf('acme-dedicated-0', 'tx'), 300);
      assert.equal(await uplinkOf('acme-edge', 'rx'), undefined, 'the shared uplink is exported for no edge');
      const m = await kube.get<Meter>(TrafficMeterResource, name);
      assert.equal(m.status?.edges?.find((e) => e.edgeGateway === 'acme-dedicated-0')?.rxBytes, 700);
      const readable = m.status?.conditions?.find((c) => c.type === 'MeterPointsReadable');
      assert.equal(readable?.status, 'False');
      for (const edge of ['acme-edge', 'globex-edge'])
        assert.ok(
          m.status?.unreadable?.some((u) => u.startsWith(`${edge}/Tier0Uplink`) && /shared by 2 edges/.test(u)),
          `${edge}'s Tier-0 uplink is named as shared (${m.status?.unreadable?.join('; ')})`,
        );
    } finally {
      await kube.delete(TrafficMeterResource, name);
    }
  });

  it('names a meter point it cannot read in a condition, and keeps exporting the others', async function () {
    const rx0 = (await acmeDownlink('rx')) ?? 0;
    sim.admin.addFault({ route: T1_IF_STATS, kind: 'status', status: 404 });
    try {
      sim.admin.addTraffic(link, { rxBytes: 250 });
      const m = await twoPolls();
      const c = m?.status?.conditions?.find((x) => x.type === 'MeterPointsReadable');
      assert.equal(c?.status, 'False');
      assert.equal(c?.reason, 'MeterPointUnreadable');
      assert.match(c?.message ?? '', /acme-edge\/Tier1ServiceInterface/);
      assert.ok(m?.status?.unreadable?.some((u) => u.startsWith('acme-edge/Tier1ServiceInterface')));
      assert.equal(await acmeDownlink('rx'), rx0 + 250, 'the downlink is still read');
    } finally {
      sim.admin.clearFaults();
    }
    const healed = await twoPolls();
    assert.equal(healed?.status?.conditions?.find((x) => x.type === 'MeterPointsReadable')?.status, 'True');
  });
});
