// The TrafficMeter polls: one loop per meter, on the leader only (a leader-only runnable), reading
// each discovered interface once per interval with the reads spread evenly over it. Per-node
// counters go through ResettingCounters, so the exported totals never go backwards and never
// count a node twice across reboots and failovers. An interface that cannot be read is reported
// (by name) and skipped; the others keep being exported.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { TrafficMeterSpec } from '../../api/index.ts';
import type { InterfaceStatistics, NsxClient } from '../../clients/nsx/index.ts';
import type { VcdClient } from '../../clients/vcd/index.ts';
import { ResettingCounters } from '../../reconcile/counters.ts';
import type { Clock, Runnable } from '../../runtime/index.ts';
import { sleep } from '../../runtime/clock.ts';
import { discover, type MeterTarget } from './discovery.ts';

export interface MeterClients {
  vcd: VcdClient;
  nsx: NsxClient;
}

export interface EdgeTotals {
  org: string;
  edgeGateway: string;
  interfaces: number;
  rxBytes: number;
  txBytes: number;
  droppedPackets: number;
}

export interface MeterSnapshot {
  lastPollTime?: number;
  edges: EdgeTotals[];
  /** "edge/point: why" for every meter point the last interval could not read. */
  unreadable: string[];
  /** Why the meter could not poll at all (clients, discovery); undefined when it polls. */
  error?: string;
}

interface Meter {
  spec: TrafficMeterSpec;
  /** Logged-in clients, or why there are none. */
  clients: () => Promise<MeterClients>;
  abort: AbortController;
  snapshot: MeterSnapshot;
  totals: Map<string, EdgeTotals>;
  counters: ResettingCounters;
}

/** Rediscover the interfaces this often (in intervals), and after any read fails with not-found. */
const DISCOVER_EVERY = 10;

export class TrafficPoller {
  readonly #meters = new Map<string, Meter>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #onPoll: (meter: string) => void;
  readonly #bytes: Counter<string>;
  readonly #packets: Counter<string>;
  readonly #dropped: Counter<string>;
  readonly #requests: Counter<'meter' | 'result'>;
  #signal: AbortSignal | undefined;

  constructor(opts: { registry: Registry; clock: Clock; logger: Logger; onPoll: (meter: string) => void }) {
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#onPoll = opts.onPoll;
    const labelNames = ['meter', 'org', 'edge_gateway', 'meter_point', 'interface', 'direction'];
    const registers = [opts.registry];
    this.#bytes = new Counter({
      name: 'vcd_operator_traffic_bytes_total',
      help: 'Bytes through a tenant edge meter point (NSX interface statistics, summed over edge nodes, across counter resets)',
      labelNames,
      registers,
    });
    this.#packets = new Counter({ name: 'vcd_operator_traffic_packets_total', help: 'Packets through a tenant edge meter point', labelNames, registers });
    this.#dropped = new Counter({
      name: 'vcd_operator_traffic_dropped_packets_total',
      help: 'Packets dropped at a tenant edge meter point',
      labelNames,
      registers,
    });
    this.#requests = new Counter({
      name: 'vcd_operator_traffic_reads_total',
      help: 'NSX statistics reads of the traffic meters, by result (ok, error)',
      labelNames: ['meter', 'result'],
      registers,
    });
  }

  /** Starts or updates the loop of a meter (its spec changed); the running interval finishes first. */
  configure(name: string, spec: TrafficMeterSpec, clients: () => Promise<MeterClients>): void {
    const m = this.#meters.get(name);
    if (m && JSON.stringify(m.spec) === JSON.stringify(spec)) {
      m.clients = clients;
      return;
    }
    if (m) m.abort.abort();
    const meter: Meter = {
      spec,
      clients,
      abort: new AbortController(),
      snapshot: m?.snapshot ?? { edges: [], unreadable: [] },
      totals: m?.totals ?? new Map<string, EdgeTotals>(),
      counters: m?.counters ?? new ResettingCounters(),
    };
    this.#meters.set(name, meter);
    if (this.#signal) this.#run(name, meter, this.#signal);
  }

  remove(name: string): void {
    this.#meters.get(name)?.abort.abort();
    this.#meters.delete(name);
  }

  snapshot(name: string): MeterSnapshot | undefined {
    return this.#meters.get(name)?.snapshot;
  }

  /** Leader-only: the loops run while this replica leads. */
  runnable(): Runnable {
    return {
      name: 'traffic-meters',
      start: async (signal) => {
        this.#signal = signal;
        for (const [name, m] of this.#meters) this.#run(name, m, signal);
        if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        this.#signal = undefined;
      },
    };
  }

  #run(name: string, m: Meter, leader: AbortSignal): void {
    const signal = AbortSignal.any([leader, m.abort.signal]);
    this.#loop(name, m, signal).catch((err: unknown) => {
      if (!signal.aborted) this.#logger.error({ meter: name, err: err instanceof Error ? err.message : String(err) }, 'traffic meter loop ended');
    });
  }

  async #loop(name: string, m: Meter, signal: AbortSignal): Promise<void> {
    const intervalMs = (m.spec.intervalSeconds ?? 60) * 1000;
    let targets: MeterTarget[] = [];
    let discoveryProblems: string[] = [];
    let sinceDiscovery = DISCOVER_EVERY;
    while (!signal.aborted) {
      const start = this.#clock.now();
      try {
        const clients = await m.clients();
        if (sinceDiscovery >= DISCOVER_EVERY) {
          const d = await discover(m.spec, clients.vcd, clients.nsx);
          targets = d.targets;
          discoveryProblems = d.problems.map((p) => `${p.edge}/${p.point}: ${p.message}`);
          sinceDiscovery = 0;
          m.counters.retain(new Set(targets.map((t) => t.key)));
        }
        sinceDiscovery++;
        const unreadable = [...discoveryProblems];
        for (let i = 0; i < targets.length && !signal.aborted; i++) {
          const t = targets[i] as MeterTarget;
          // Spread the reads over the interval: read i at start + i/N of it.
          const at = start + Math.floor((i * intervalMs) / targets.length);
          const wait = at - this.#clock.now();
          if (wait > 0) await sleep(this.#clock, wait, signal);
          try {
            this.#account(name, m, t, await t.read(clients.nsx));
            this.#requests.inc({ meter: name, result: 'ok' });
          } catch (err) {
            if (signal.aborted) return;
            this.#requests.inc({ meter: name, result: 'error' });
            unreadable.push(`${t.edgeGateway}/${t.meterPoint} ${t.interface}: ${err instanceof Error ? err.message : String(err)}`);
            sinceDiscovery = DISCOVER_EVERY; // the interface may be gone: look again next interval
          }
        }
        const perEdge = new Map<string, number>();
        for (const t of targets) perEdge.set(edgeKey(t), (perEdge.get(edgeKey(t)) ?? 0) + 1);
        for (const k of [...m.totals.keys()]) if (!perEdge.has(k)) m.totals.delete(k);
        for (const [k, e] of m.totals) e.interfaces = perEdge.get(k) ?? 0;
        m.snapshot = { lastPollTime: this.#clock.now(), edges: [...m.totals.values()].map((e) => ({ ...e })), unreadable };
      } catch (err) {
        if (signal.aborted) return;
        sinceDiscovery = DISCOVER_EVERY;
        m.snapshot = { ...m.snapshot, error: err instanceof Error ? err.message : String(err) };
      }
      this.#onPoll(name);
      const rest = start + intervalMs - this.#clock.now();
      try {
        await sleep(this.#clock, Math.max(rest, 1000), signal);
      } catch {
        return;
      }
    }
  }

  #account(name: string, m: Meter, t: MeterTarget, stats: InterfaceStatistics): void {
    const samples = new Map<string, { values: Record<string, number> }>();
    for (const [i, n] of (stats.per_node_statistics ?? []).entries()) {
      samples.set(n.transport_node_id ?? String(i), {
        values: {
          rx_bytes: n.rx?.total_bytes ?? 0,
          tx_bytes: n.tx?.total_bytes ?? 0,
          rx_packets: n.rx?.total_packets ?? 0,
          tx_packets: n.tx?.total_packets ?? 0,
          rx_dropped: n.rx?.dropped_packets ?? 0,
          tx_dropped: n.tx?.dropped_packets ?? 0,
        },
      });
    }
    const { increments: inc, resets } = m.counters.observe(t.key, samples);
    if (resets.length)
      this.#logger.info(
        { meter: name, edge: t.edgeGateway, interface: t.interface, nodes: resets },
        'NSX counters were reset (edge reboot or failover); counting from zero',
      );
    const labels = (direction: 'rx' | 'tx') => ({
      meter: name,
      org: t.org,
      edge_gateway: t.edgeGateway,
      meter_point: t.meterPoint,
      interface: t.interface,
      direction,
    });
    for (const d of ['rx', 'tx'] as const) {
      // Touch every series so a quiet interface is exported at 0, not missing.
      this.#bytes.inc(labels(d), inc[`${d}_bytes`] ?? 0);
      this.#packets.inc(labels(d), inc[`${d}_packets`] ?? 0);
      this.#dropped.inc(labels(d), inc[`${d}_dropped`] ?? 0);
    }
    let e = m.totals.get(edgeKey(t));
    if (!e) {
      e = { org: t.org, edgeGateway: t.edgeGateway, interfaces: 0, rxBytes: 0, txBytes: 0, droppedPackets: 0 };
      m.totals.set(edgeKey(t), e);
    }
    e.rxBytes += inc['rx_bytes'] ?? 0;
    e.txBytes += inc['tx_bytes'] ?? 0;
    e.droppedPackets += (inc['rx_dropped'] ?? 0) + (inc['tx_dropped'] ?? 0);
  }
}

/** Edge names are unique per org only. */
function edgeKey(t: MeterTarget): string {
  return `${t.org}/${t.edgeGateway}`;
}
