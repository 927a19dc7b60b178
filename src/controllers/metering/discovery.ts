// Which NSX interfaces to read for a TrafficMeter: tenant edges from VCD (org, name, the Tier-1
// behind each, gatewayBacking.backingId), then per edge the meter points the spec asks for, found
// in NSX (vcenter-api reference A4): the Tier-1's uplink Tier-0 and its link to the Tier-1; the
// Tier-0's EXTERNAL interfaces when that Tier-0 serves this edge alone; the Tier-1's service
// interfaces. Discovery costs list calls, so the poller keeps its result for several intervals.
import type { MeterPoint, TrafficMeterSpec } from '../../api/index.ts';
import type { InterfaceStatistics, NsxClient, PolicyResource } from '../../clients/nsx/index.ts';
import type { VcdClient } from '../../clients/vcd/index.ts';

export interface MeterTarget {
  /** Unique per meter: the series key of the counters. */
  key: string;
  org: string;
  edgeGateway: string;
  meterPoint: MeterPoint;
  /** The interface label: its NSX policy path (or tier-0 → tier-1 for a downlink). */
  interface: string;
  read(nsx: NsxClient): Promise<InterfaceStatistics>;
}

export interface Discovery {
  targets: MeterTarget[];
  /** Meter points that could not be found or resolved, with why. */
  problems: Array<{ edge: string; point: MeterPoint | 'Edge'; message: string }>;
}

interface Edge {
  id: string;
  name: string;
  org: string;
  tier1: string;
}

const DEFAULT_POINTS: MeterPoint[] = ['Tier0Downlink'];

export async function discover(spec: TrafficMeterSpec, vcd: VcdClient, nsx: NsxClient): Promise<Discovery> {
  const points = new Set(spec.meterPoints?.length ? spec.meterPoints : DEFAULT_POINTS);
  const orgs = spec.orgs?.length ? new Set(spec.orgs.map((o) => o.toLowerCase())) : undefined;
  const wanted = spec.edgeGateways?.length ? new Set(spec.edgeGateways) : undefined;
  const edges: Edge[] = [];
  for (const e of await vcd.edgeGateways.list()) {
    const org = e.orgRef?.name ?? e.ownerRef?.name ?? '';
    if (orgs && !orgs.has(org.toLowerCase())) continue;
    if (wanted && !wanted.has(e.name) && !(e.id && wanted.has(e.id))) continue;
    const tier1 = e.gatewayBacking?.backingId;
    if (!e.id || !tier1) continue;
    edges.push({ id: e.id, name: e.name, org, tier1 });
  }
  const out: Discovery = { targets: [], problems: [] };
  // Tier-1s and their Tier-0s, read once per discovery.
  const tier1s = new Map<string, PolicyResource | undefined>();
  await Promise.all(edges.map(async (e) => tier1s.set(e.tier1, await nsx.find<PolicyResource>(`/infra/tier-1s/${e.tier1}`))));
  const edgesOfTier0 = new Map<string, number>();
  for (const t1 of tier1s.values()) {
    const t0 = typeof t1?.tier0_path === 'string' ? t1.tier0_path : undefined;
    if (t0) edgesOfTier0.set(t0, (edgesOfTier0.get(t0) ?? 0) + 1);
  }
  const tier0Uplinks = new Map<string, Promise<string[]>>();
  for (const e of edges) {
    const t1 = tier1s.get(e.tier1);
    const t1Path = `/infra/tier-1s/${e.tier1}`;
    const t0 = typeof t1?.tier0_path === 'string' ? t1.tier0_path : undefined;
    const base = { org: e.org, edgeGateway: e.name };
    if (!t1) {
      out.problems.push({ edge: e.name, point: 'Edge', message: `NSX has no Tier-1 ${t1Path} behind edge gateway ${e.name}` });
      continue;
    }
    if (points.has('Tier0Downlink')) {
      if (!t0) out.problems.push({ edge: e.name, point: 'Tier0Downlink', message: `Tier-1 ${t1Path} has no Tier-0` });
      else
        out.targets.push({
          ...base,
          key: `${e.id}|Tier0Downlink|${t0}`,
          meterPoint: 'Tier0Downlink',
          interface: `${t0}/tier-1-interface`,
          read: (c) => c.tier1LinkStatistics(t0, t1Path),
        });
    }
    if (points.has('Tier0Uplink') && t0) {
      if ((edgesOfTier0.get(t0) ?? 0) > 1) {
        out.problems.push({
          edge: e.name,
          point: 'Tier0Uplink',
          message: `Tier-0 ${t0} is shared by ${edgesOfTier0.get(t0) ?? 0} edges; its uplink is not one tenant's traffic`,
        });
      } else {
        let p = tier0Uplinks.get(t0);
        if (!p) {
          p = interfacesOf(nsx, t0, (i) => i.type === 'EXTERNAL');
          tier0Uplinks.set(t0, p);
        }
        for (const path of await p)
          out.targets.push({
            ...base,
            key: `${e.id}|Tier0Uplink|${path}`,
            meterPoint: 'Tier0Uplink',
            interface: path,
            read: (c) => c.interfaceStatistics(path),
          });
      }
    }
    if (points.has('Tier1ServiceInterface')) {
      for (const path of await interfacesOf(nsx, t1Path, () => true)) {
        out.targets.push({
          ...base,
          key: `${e.id}|Tier1ServiceInterface|${path}`,
          meterPoint: 'Tier1ServiceInterface',
          interface: path,
          read: (c) => c.interfaceStatistics(path),
        });
      }
    }
  }
  return out;
}

/** Interfaces of every locale service of a gateway (listed, never assumed to be `default`). */
async function interfacesOf(nsx: NsxClient, gatewayPath: string, keep: (i: PolicyResource) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const ls of await nsx.list<PolicyResource>(`${gatewayPath}/locale-services`)) {
    const lsPath = ls.path ?? `${gatewayPath}/locale-services/${ls.id ?? ''}`;
    for (const i of await nsx.list<PolicyResource>(`${lsPath}/interfaces`)) if (keep(i)) out.push(i.path ?? `${lsPath}/interfaces/${i.id ?? ''}`);
  }
  return out;
}
