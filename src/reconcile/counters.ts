// Monotonic totals from cumulative counters that reset. NSX reports an interface's counters per
// edge node, and a node's counters restart from zero when the edge reboots or a failover moves the
// service router to the standby. Each node's series is followed on its own: a value below the last
// one seen is a reset, and the traffic since the reset is the new value; a node seen for the first
// time after the first read (the standby that just took over) counts from zero; its first read
// (before which the operator was not watching) only sets the baseline. The sum of the per-node
// increments is added once to the total, which therefore never goes backwards and never counts a
// node's traffic twice. A reset followed by more traffic than the node had before, between two
// reads, is seen as growth and undercounts by the old value; reading often enough makes it rare.

export interface CounterSample {
  /** Values by counter name (bytes_rx, packets_tx...). Missing names count as unchanged. */
  values: Record<string, number>;
}

export interface CounterUpdate {
  /** What to add to each total. */
  increments: Record<string, number>;
  /** Nodes whose counters went backwards (a reset) in this read. */
  resets: string[];
}

interface SeriesState {
  /** Last value per node, per counter name. */
  nodes: Map<string, Record<string, number>>;
  primed: boolean;
}

export class ResettingCounters {
  readonly #series = new Map<string, SeriesState>();

  /**
   * One read of a series (an interface): samples by node id. Returns the increments to add. The
   * first read of a series only records baselines.
   */
  observe(series: string, samples: Map<string, CounterSample>): CounterUpdate {
    let s = this.#series.get(series);
    const first = !s;
    if (!s) {
      s = { nodes: new Map(), primed: false };
      this.#series.set(series, s);
    }
    const increments: Record<string, number> = {};
    const resets: string[] = [];
    for (const [node, sample] of samples) {
      const last = s.nodes.get(node);
      const next: Record<string, number> = { ...last };
      let reset = false;
      for (const [name, raw] of Object.entries(sample.values)) {
        if (!Number.isFinite(raw) || raw < 0) continue;
        const prev = last?.[name];
        let inc: number;
        if (prev === undefined) inc = first || !s.primed ? 0 : raw;
        else if (raw >= prev) inc = raw - prev;
        else {
          inc = raw;
          reset = true;
        }
        next[name] = raw;
        if (inc > 0) increments[name] = (increments[name] ?? 0) + inc;
      }
      if (reset) resets.push(node);
      s.nodes.set(node, next);
    }
    s.primed = true;
    return { increments, resets };
  }

  /** Forget series that are no longer read (an edge left the meter). */
  retain(live: Set<string>): void {
    for (const k of this.#series.keys()) if (!live.has(k)) this.#series.delete(k);
  }
}
