// Interface counters that advance with simulated traffic. Each interface has a rate (bytes per
// second each way); counters are settled lazily from the injected clock whenever they are read or
// the rate changes, so they are monotonic and tests control them by moving the clock or by adding
// traffic explicitly. Counters are cumulative, as NSX's are (clients compute rates from deltas).
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

/** Typical packet size used to derive packet counts from byte rates. */
const AVERAGE_PACKET_BYTES = 800;

interface Entry {
  rate: TrafficRate;
  counters: InterfaceCounters;
  /** Sub-byte and sub-packet remainders, so slow rates still add up exactly. */
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
  readonly #defaultRate: TrafficRate;
  #entries = new Map<string, Entry>();

  constructor(clock: SimClock, defaultRate: TrafficRate) {
    this.#clock = clock;
    this.#defaultRate = defaultRate;
  }

  setRate(interfacePath: string, rate: TrafficRate): void {
    const e = this.#settle(interfacePath);
    e.rate = { ...rate };
  }

  add(interfacePath: string, delta: TrafficDelta): void {
    const e = this.#settle(interfacePath);
    const { rx, tx } = e.counters;
    rx.total_bytes += delta.rxBytes ?? 0;
    tx.total_bytes += delta.txBytes ?? 0;
    rx.total_packets += delta.rxPackets ?? Math.ceil((delta.rxBytes ?? 0) / AVERAGE_PACKET_BYTES);
    tx.total_packets += delta.txPackets ?? Math.ceil((delta.txBytes ?? 0) / AVERAGE_PACKET_BYTES);
    rx.dropped_packets += delta.rxDroppedPackets ?? 0;
    tx.dropped_packets += delta.txDroppedPackets ?? 0;
  }

  /** Current counters (a copy), settled to the clock's now. */
  read(interfacePath: string): InterfaceCounters {
    const c = this.#settle(interfacePath).counters;
    return { rx: { ...c.rx }, tx: { ...c.tx }, lastUpdateMs: c.lastUpdateMs };
  }

  /** Forget an interface (it was deleted); a new one at the same path starts from zero. */
  forget(pathPrefix: string): void {
    for (const p of [...this.#entries.keys()]) if (p === pathPrefix || p.startsWith(`${pathPrefix}/`)) this.#entries.delete(p);
  }

  clear(): void {
    this.#entries.clear();
  }

  #settle(path: string): Entry {
    const now = this.#clock.now();
    let e = this.#entries.get(path);
    if (!e) {
      e = { rate: { ...this.#defaultRate }, counters: { rx: zero(), tx: zero(), lastUpdateMs: now }, carry: { rx: 0, tx: 0 } };
      this.#entries.set(path, e);
      return e;
    }
    const elapsedMs = Math.max(0, now - e.counters.lastUpdateMs);
    if (elapsedMs > 0) {
      for (const dir of ['rx', 'tx'] as const) {
        const rate = dir === 'rx' ? e.rate.rxBytesPerSecond : e.rate.txBytesPerSecond;
        const exact = (rate * elapsedMs) / 1000 + e.carry[dir];
        const bytes = Math.floor(exact);
        e.carry[dir] = exact - bytes;
        const before = e.counters[dir].total_bytes;
        e.counters[dir].total_bytes += bytes;
        // Packets follow bytes at the average size, counted on whole-packet boundaries.
        e.counters[dir].total_packets +=
          Math.floor((before + bytes) / AVERAGE_PACKET_BYTES) - Math.floor(before / AVERAGE_PACKET_BYTES);
      }
      e.counters.lastUpdateMs = now;
    }
    return e;
  }
}
