// Kubernetes Events (events.k8s.io/v1) on the object that caused them. A repeat of the same
// event (same object, type, reason, action and message) bumps the existing Event's series count
// instead of creating another Event, so a failing reconcile does not flood the namespace.
// Recording is asynchronous, as client-go's recorder is: an Event is a courtesy to users, so a
// reconcile never waits for its write, and a bounded number of writes is held before new events
// are dropped (with a warning) when the apiserver cannot keep up.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import type { Clock } from './clock.ts';
import { isKubeApiError } from './errors.ts';
import { errorSummary } from './informer.ts';
import type { KubeObject, ResourceType } from './types.ts';

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. Allocated, QuotaExceeded. */
  reason: string;
  message: string;
  /** What was done or failed, e.g. Allocate; defaults to the reason. */
  action?: string;
}

export const eventResource: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export interface EventRecorderOptions {
  client: KubeClient;
  clock: Clock;
  /** reportingController: a qualified name such as vcd-operator.io/floatingipclaim. */
  controller: string;
  /** reportingInstance: this replica, e.g. the pod name. */
  instance: string;
  logger?: Logger;
  /** Repeats within this window join the same Event's series. Default 30 min. */
  seriesWindowMs?: number;
  /** Bound on remembered Events. Default 4096. */
  maxEntries?: number;
  /** Bound on Event writes not yet done; beyond it new events are dropped. Default 1000. */
  maxPending?: number;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  /** Writes for one series are serialized so counts never go backwards. */
  chain: Promise<void>;
}

/** MicroTime wants exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class EventRecorder {
  readonly #o: Required<Omit<EventRecorderOptions, 'logger'>> & { logger?: Logger };
  readonly #seen = new Map<string, Seen>();
  readonly #pending = new Set<Promise<void>>();
  #dropped = 0;

  constructor(opts: EventRecorderOptions) {
    this.#o = { seriesWindowMs: 30 * 60_000, maxEntries: 4096, maxPending: 1000, ...opts };
  }

  /**
   * Queues the event and returns at once. Never throws, and its write never rejects: a failure
   * to write an Event is logged and must not fail the reconcile that reported it.
   */
  record(obj: KubeObject, e: EventInput): void {
    if (this.#pending.size >= this.#o.maxPending) {
      if (this.#dropped++ % 100 === 0) this.#o.logger?.warn({ reason: e.reason, dropped: this.#dropped }, 'too many events waiting to be written; dropping');
      return;
    }
    const write = this.#write(obj, e);
    this.#pending.add(write);
    void write.finally(() => this.#pending.delete(write));
  }

  /** Resolves once every event recorded so far has been written or given up on (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #write(obj: KubeObject, e: EventInput): Promise<void> {
    const meta = obj.metadata ?? {};
    const action = e.action ?? e.reason;
    const note = e.message.length > 1024 ? `${e.message.slice(0, 1021)}...` : e.message;
    const id = [meta.uid ?? `${meta.namespace}/${meta.name}`, e.type, e.reason, action, note].join('\u0000');
    const now = this.#o.clock.now();
    const prev = this.#seen.get(id);
    if (prev && now - prev.firstAt <= this.#o.seriesWindowMs) {
      prev.count++;
      const count = prev.count;
      prev.chain = prev.chain.then(() => this.#bumpSeries(prev, count, obj, e, action, note));
      return prev.chain;
    }
    const entry: Seen = { name: '', namespace: meta.namespace || 'default', count: 1, firstAt: now, chain: Promise.resolve() };
    this.#remember(id, entry);
    entry.chain = this.#create(entry, obj, e, action, note);
    return entry.chain;
  }

  async #create(entry: Seen, obj: KubeObject, e: EventInput, action: string, note: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const now = this.#o.clock.now();
    entry.name = `${meta.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    entry.firstAt = now;
    const body: Record<string, unknown> = {
      metadata: { name: entry.name, namespace: entry.namespace },
      eventTime: microTime(now),
      reportingController: this.#o.controller,
      reportingInstance: this.#o.instance,
      action,
      reason: e.reason,
      note,
      type: e.type,
      regarding: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
    };
    if (entry.count > 1) body.series = { count: entry.count, lastObservedTime: microTime(now) };
    try {
      // Events wait behind every other write: nothing waits for them.
      await this.#o.client.create(eventResource, body, { priority: 'background' });
    } catch (err) {
      this.#o.logger?.warn({ err: errorSummary(err), reason: e.reason }, 'could not record event');
    }
  }

  async #bumpSeries(entry: Seen, count: number, obj: KubeObject, e: EventInput, action: string, note: string): Promise<void> {
    if (count < entry.count) return; // a later repeat will write a higher count
    try {
      await this.#o.client.patch(
        eventResource,
        entry.name,
        entry.namespace,
        { series: { count: entry.count, lastObservedTime: microTime(this.#o.clock.now()) } },
        { priority: 'background' },
      );
    } catch (err) {
      if (isKubeApiError(err, 404)) return this.#create(entry, obj, e, action, note); // expired (TTL)
      this.#o.logger?.warn({ err: errorSummary(err), reason: e.reason }, 'could not update event series');
    }
  }

  #remember(id: string, entry: Seen): void {
    this.#seen.delete(id);
    this.#seen.set(id, entry);
    while (this.#seen.size > this.#o.maxEntries) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
  }
}
