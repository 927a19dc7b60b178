// Interface counters that advance with simulated traffic. Each metered point (a gateway interface,
// or the Tier-0 end of a Tier-0–Tier-1 link) runs on two edge nodes, active and standby, and NSX
// reports them per node; traffic accrues on the active node at the point's rate (bytes per second
// each way). Counters are settled lazily from the injected clock whenever they are read or the
// rate changes, so tests control them by moving the clock or adding traffic explicitly. A reboot
// zeroes a point's counters on every node; a failover makes the standby active, its counters
// starting again from zero, as a new datapath's do.
import type { SimClock } from '../core/core.ts';

export interface TrafficRate {
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
}

export interface TrafficDelta {
  rxBytes?: number;
  txBytes?: number;
  rxPackets?: number;
  txPackets?: number;
  rxDroppedPackets?: number;
  txDroppedPackets?: number;
}

export interface DirectionCounters {
  total_bytes: number;
  total_packets: number;
  dropped_packets: number;
  blocked_packets: number;
  firewall_dropped_packets: number;
}

export interface InterfaceCounters {
  rx: DirectionCounters;
  tx: DirectionCounters;
  lastUpdateMs: number;
}

export interface NodeCounters extends InterfaceCounters {
  /** The edge node's policy path (…/edge-clusters/{ec}/edge-nodes/{n}). */
  edgePath: string;
  active: boolean;
}

/** Typical packet size used to derive packet counts from byte rates. */
const AVERAGE_PACKET_BYTES = 800;

interface Node {
  edgePath: string;
  counters: InterfaceCounters;
}

interface Entry {
  /** Its own rate; the default rate when absent. */
  rate?: TrafficRate;
  nodes: [Node, Node];
  active: 0 | 1;
  settledAt: number;
  /** Sub-byte remainders, so slow rates still add up exactly. */
  carry: { rx: number; tx: number };
}

const zero = (): DirectionCounters => ({
  total_bytes: 0,
  total_packets: 0,
  dropped_packets: 0,
  blocked_packets: 0,
  firewall_dropped_packets: 0,
});

export class TrafficModel {
  readonly #clock: SimClock;
  #defaultRate: TrafficRate;
  readonly #edgeNodes: [string, string];
  #entries = new Map<string, Entry>();

  /** `edgeNodes`: the policy paths of the two edge nodes every point runs on (active first). */
  constructor(clock: SimClock, defaultRate: TrafficRate, edgeNodes: [string, string]) {
    this.#clock = clock;
    this.#defaultRate = defaultRate;
    this.#edgeNodes = edgeNodes;
  }

  /** The rate of points not given their own (the traffic knob); applies from now. */
  setDefaultRate(rate: TrafficRate): void {
    for (const [path, e] of this.#entries) if (!e.rate) this.#settle(path);
    this.#defaultRate = { ...rate };
  }

  get defaultRate(): TrafficRate {
    return { ...this.#defaultRate };
  }

  setRate(path: string, rate: TrafficRate): void {
    const e = this.#settle(path);
    e.rate = { ...rate };
  }

  add(path: string, delta: TrafficDelta): void {
    const e = this.#settle(path);
    const { rx, tx } = e.nodes[e.active].counters;
    rx.total_bytes += delta.rxBytes ?? 0;
    tx.total_bytes += delta.txBytes ?? 0;
    rx.total_packets += delta.rxPackets ?? Math.ceil((delta.rxBytes ?? 0) / AVERAGE_PACKET_BYTES);
    tx.total_packets += delta.txPackets ?? Math.ceil((delta.txBytes ?? 0) / AVERAGE_PACKET_BYTES);
    rx.dropped_packets += delta.rxDroppedPackets ?? 0;
    tx.dropped_packets += delta.txDroppedPackets ?? 0;
  }

  /** The active node's counters (a copy), settled to the clock's now. */
  read(path: string): InterfaceCounters {
    const e = this.#settle(path);
    return copy(e.nodes[e.active].counters);
  }

  /**
   * Every node's counters (copies), active first: what per_node_statistics reports. `edgePath`
   * names the node a new point is active on (an interface's own edge_path).
   */
  readNodes(path: string, edgePath?: string): NodeCounters[] {
    const e = this.#settle(path, edgePath);
    const order = e.active === 0 ? [0, 1] : [1, 0];
    return order.map((i) => ({ ...copy((e.nodes[i] as Node).counters), edgePath: (e.nodes[i] as Node).edgePath, active: i === e.active }));
  }

  /** An edge reboot: the point's counters start again from zero on every node. */
  reset(pathPrefix: string): number {
    let n = 0;
    for (const path of this.#matching(pathPrefix)) {
      const e = this.#settle(path);
      const now = this.#clock.now();
      for (const node of e.nodes) node.counters = { rx: zero(), tx: zero(), lastUpdateMs: now };
      n++;
    }
    return n;
  }

  /** A failover: the standby becomes active and counts from zero; the old active's counters stay. */
  failover(pathPrefix: string): number {
    let n = 0;
    for (const path of this.#matching(pathPrefix)) {
      const e = this.#settle(path);
      e.active = e.active === 0 ? 1 : 0;
      e.nodes[e.active].counters = { rx: zero(), tx: zero(), lastUpdateMs: this.#clock.now() };
      n++;
    }
    return n;
  }

  /** Forget an interface (it was deleted); a new one at the same path starts from zero. */
  forget(pathPrefix: string): void {
    for (const p of this.#matching(pathPrefix)) this.#entries.delete(p);
  }

  clear(): void {
    this.#entries.clear();
  }

  #matching(prefix: string): string[] {
    // Points are created on first read; a reset or failover of a gateway covers the ones read so far.
    return [...this.#entries.keys()].filter((p) => p === prefix || p.startsWith(`${prefix}/`));
  }

  #settle(path: string, activeEdge?: string): Entry {
    const now = this.#clock.now();
    let e = this.#entries.get(path);
    if (!e) {
      const node = (edgePath: string): Node => ({ edgePath, counters: { rx: zero(), tx: zero(), lastUpdateMs: now } });
      const first = activeEdge ?? this.#edgeNodes[0];
      const second = first === this.#edgeNodes[1] ? this.#edgeNodes[0] : this.#edgeNodes[1];
      e = { nodes: [node(first), node(second)], active: 0, settledAt: now, carry: { rx: 0, tx: 0 } };
      this.#entries.set(path, e);
      return e;
    }
    const elapsedMs = Math.max(0, now - e.settledAt);
    if (elapsedMs > 0) {
      const c = e.nodes[e.active].counters;
      for (const dir of ['rx', 'tx'] as const) {
        const r = e.rate ?? this.#defaultRate;
        const rate = dir === 'rx' ? r.rxBytesPerSecond : r.txBytesPerSecond;
        const exact = (rate * elapsedMs) / 1000 + e.carry[dir];
        const bytes = Math.floor(exact);
        e.carry[dir] = exact - bytes;
        const before = c[dir].total_bytes;
        c[dir].total_bytes += bytes;
        // Packets follow bytes at the average size, counted on whole-packet boundaries.
        c[dir].total_packets += Math.floor((before + bytes) / AVERAGE_PACKET_BYTES) - Math.floor(before / AVERAGE_PACKET_BYTES);
      }
      c.lastUpdateMs = now;
      e.settledAt = now;
    }
    return e;
  }
}

function copy(c: InterfaceCounters): InterfaceCounters {
  return { rx: { ...c.rx }, tx: { ...c.tx }, lastUpdateMs: c.lastUpdateMs };
}
