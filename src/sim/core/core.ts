// What all services of one simulator share: knobs, fault rules, per-route counters and the audit
// log. One SimCore is handed to every serveRoutes() call so that tests see one picture.
import type { AuditEntry, FaultRule, ServiceKind } from './types.ts';
import { defaultKnobs, mergeKnobs, type SimKnobs } from './knobs.ts';
import { redactSecrets } from './redact.ts';

const MAX_AUDIT_ENTRIES = 200_000;

export interface RouteCounter {
  service: ServiceKind;
  instance: string;
  /** `METHOD pattern`, or `METHOD <unmatched>` for requests no route answered. */
  route: string;
  count: number;
}

export interface SimClock {
  now(): number;
}

export class SimCore {
  #knobs: SimKnobs;
  readonly clock: SimClock;
  #faults: Array<FaultRule & { remaining: number }> = [];
  #counters = new Map<string, RouteCounter>();
  #audit: AuditEntry[] = [];
  #seq = 0;

  constructor(opts: { knobs?: Partial<SimKnobs>; clock?: SimClock } = {}) {
    this.#knobs = mergeKnobs({ ...defaultKnobs }, opts.knobs ?? {});
    this.clock = opts.clock ?? { now: () => Date.now() };
  }

  get knobs(): Readonly<SimKnobs> {
    return this.#knobs;
  }

  setKnobs(patch: Partial<SimKnobs>): SimKnobs {
    this.#knobs = mergeKnobs(this.#knobs, patch);
    return this.#knobs;
  }

  addFault(rule: FaultRule): void {
    if (!/^(GET|POST|PUT|PATCH|DELETE) \//.test(rule.route)) {
      throw new TypeError(`fault route must look like 'METHOD /pattern', got '${rule.route}'`);
    }
    if (rule.kind === 'status' && (rule.status === undefined || rule.status < 400 || rule.status > 599)) {
      throw new TypeError('a status fault needs a 4xx/5xx status');
    }
    this.#faults.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  faults(): FaultRule[] {
    return this.#faults.filter((f) => f.remaining > 0).map(({ remaining: _r, ...rule }) => rule);
  }

  /** Finds the first live rule for this request and uses up one of its `times`. */
  takeFault(service: ServiceKind, instance: string, route: string): FaultRule | undefined {
    const hit = this.#faults.find(
      (f) =>
        f.remaining > 0 && f.route === route && (f.service === undefined || f.service === service) && (f.instance === undefined || f.instance === instance),
    );
    if (!hit) return undefined;
    hit.remaining -= 1;
    const { remaining: _r, ...rule } = hit;
    return rule;
  }

  count(service: ServiceKind, instance: string, route: string): void {
    const key = `${service}\u0000${instance}\u0000${route}`;
    const c = this.#counters.get(key);
    if (c) c.count += 1;
    else this.#counters.set(key, { service, instance, route, count: 1 });
  }

  counters(): RouteCounter[] {
    return [...this.#counters.values()].map((c) => ({ ...c }));
  }

  /** Total calls matching a route (`METHOD pattern`), optionally for one service. */
  callCount(route: string, service?: ServiceKind): number {
    let n = 0;
    for (const c of this.#counters.values()) if (c.route === route && (!service || c.service === service)) n += c.count;
    return n;
  }

  recordWrite(e: Omit<AuditEntry, 'seq' | 'at'>): AuditEntry {
    const entry: AuditEntry = {
      seq: ++this.#seq,
      at: new Date(this.clock.now()).toISOString(),
      service: e.service,
      instance: e.instance,
      method: e.method,
      path: e.path,
      route: e.route,
      status: e.status,
    };
    if (e.body !== undefined) entry.body = redactSecrets(e.body);
    this.#audit.push(entry);
    // A bounded log: a simulator left running for days keeps the newest entries.
    if (this.#audit.length > MAX_AUDIT_ENTRIES + 10_000) this.#audit.splice(0, this.#audit.length - MAX_AUDIT_ENTRIES);
    return entry;
  }

  /** Audit entries, oldest first; `sinceSeq` returns only newer ones. */
  audit(sinceSeq = 0): AuditEntry[] {
    return this.#audit.filter((e) => e.seq > sinceSeq);
  }

  /** Forgets counters, audit and faults (state resets are each service's business). */
  resetObservations(): void {
    this.#counters.clear();
    this.#audit = [];
    this.#faults = [];
  }
}
