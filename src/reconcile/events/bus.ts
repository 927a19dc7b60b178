// Event-driven resync: one subscription to VCD's message bus per logged-in connection of the pool
// (its tenant topics, or publish/# for a provider), run on the leader. Each event's entity goes
// to the key registry, which enqueues the keys that depend on it. When a bus is unreachable its
// state is shown on the connection and in metrics, and periodic resync carries on as before; when
// it returns, every key of that connection is enqueued once, since events may have been missed.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { entityTypeOf, subscribeEvents, type BusState, type VcdBusEvent, type VcdClient } from '../../clients/vcd/index.ts';
import type { Clock, Runnable } from '../../runtime/index.ts';
import { sleep } from '../../runtime/clock.ts';
import type { EventKeyRegistry } from './registry.ts';

export interface BusStatus {
  connected: boolean;
  /** When the state last changed (ms since epoch). */
  since: number;
  /** Why it is not connected. */
  error?: string;
}

export interface EventBusOptions {
  pool: { loggedIn(): Array<{ key: string; client: VcdClient }> };
  registry: EventKeyRegistry;
  metrics: Registry;
  clock: Clock;
  logger: Logger;
  /** How often the set of logged-in connections is compared with the subscriptions. Default 2 s. */
  scanMs?: number;
  /** False: no subscriptions (the runnable idles); connections show no EventBus condition. */
  enabled?: boolean;
  /** Reconnect delays of one subscription; default 500 ms doubling to 30 s. */
  backoff?: { initialDelayMs: number; maxDelayMs: number; multiplier: number; jitter: number };
}

interface Subscription {
  client: VcdClient;
  abort: AbortController;
  done: Promise<void>;
  /** The session's user, whose events are the operator's own writes. */
  user?: string;
  /** Set once a connection failed or dropped; the next connect catches up. */
  missed: boolean;
}

export class EventBus {
  readonly #o: EventBusOptions;
  readonly #subs = new Map<string, Subscription>();
  readonly #status = new Map<string, BusStatus>();
  readonly #connected: Gauge<'connection'>;
  readonly #events: Counter<'connection'>;

  constructor(opts: EventBusOptions) {
    this.#o = opts;
    const registers = [opts.metrics];
    this.#connected = new Gauge({
      name: 'vcd_operator_event_bus_connected',
      help: '1 while the VCD message bus subscription of a connection is up, 0 while it is unreachable',
      labelNames: ['connection'],
      registers,
    });
    this.#events = new Counter({
      name: 'vcd_operator_event_bus_events_total',
      help: 'VCD events received on the message bus, per connection',
      labelNames: ['connection'],
      registers,
    });
  }

  get enabled(): boolean {
    return this.#o.enabled ?? true;
  }

  /** The bus state of a connection (by connection key); undefined before its first attempt. */
  status(connection: string): BusStatus | undefined {
    return this.#status.get(connection);
  }

  /** The leader-only runnable that keeps one subscription per logged-in connection. */
  runnable(): Runnable {
    return {
      name: 'vcd-event-bus',
      start: async (signal) => {
        try {
          while (!signal.aborted) {
            if (this.enabled) this.#scan();
            try {
              await sleep(this.#o.clock, this.#o.scanMs ?? 2000, signal);
            } catch {
              break;
            }
          }
        } finally {
          await this.#stopAll();
        }
      },
    };
  }

  #scan(): void {
    const live = new Map(this.#o.pool.loggedIn().map((c) => [c.key, c.client]));
    for (const [key, sub] of this.#subs) {
      // A connection that was deleted, or whose client was replaced (new credentials), starts over.
      if (live.get(key) !== sub.client) this.#stop(key, sub);
    }
    for (const [key, client] of live) if (!this.#subs.has(key)) this.#start(key, client);
  }

  #start(key: string, client: VcdClient): void {
    const abort = new AbortController();
    const access = client.messageBusAccess();
    const sub: Subscription = { client, abort, done: Promise.resolve(), missed: false };
    const rt = this.#o.clock;
    sub.done = (async () => {
      try {
        sub.user = (await access.whoAmI()).userId;
      } catch {
        // Own writes cannot be told apart until the session answers; events still count.
      }
      await subscribeEvents({
        access,
        signal: abort.signal,
        clock: { now: () => rt.now(), sleep: (ms, s) => sleep(rt, ms, s) },
        logger: this.#o.logger,
        ...(this.#o.backoff ? { backoff: this.#o.backoff } : {}),
        onEvent: (e) => this.#onEvent(key, e),
        onState: (s) => this.#onState(key, sub, s),
      });
    })().catch((err: unknown) =>
      this.#o.logger.error({ connection: key, err: err instanceof Error ? err.message : String(err) }, 'message bus subscription ended'),
    );
    this.#subs.set(key, sub);
  }

  #onEvent(connection: string, event: VcdBusEvent): void {
    this.#events.inc({ connection });
    const entityTypes = [entityTypeOf(event.entity), ...(event.subEntity ? [entityTypeOf(event.subEntity)] : [])].filter((t) => t);
    const ownWrite = [...this.#subs.values()].some((s) => s.user !== undefined && s.user === event.user);
    this.#o.registry.dispatch({ connection, event, entityTypes, ownWrite });
  }

  #onState(connection: string, sub: Subscription, s: BusState): void {
    const prev = this.#status.get(connection);
    this.#connected.set({ connection }, s.connected ? 1 : 0);
    if (prev && prev.connected === s.connected && (s.connected || prev.error === s.error)) return;
    const now = this.#o.clock.now();
    const changed = !prev || prev.connected !== s.connected;
    this.#status.set(
      connection,
      s.connected ? { connected: true, since: changed ? now : prev.since } : { connected: false, since: changed ? now : (prev?.since ?? now), error: s.error },
    );
    if (s.connected) {
      if (sub.missed) {
        const n = this.#o.registry.catchUp(connection);
        this.#o.logger.info({ connection, keys: n }, 'message bus is back; every key of the connection enqueued once');
      }
      sub.missed = false;
    } else {
      sub.missed = true;
      if (changed) this.#o.logger.warn({ connection, error: s.error }, 'message bus unreachable; periodic resync continues');
    }
    if (changed) this.#o.registry.busStateChanged(connection);
  }

  #stop(key: string, sub: Subscription): void {
    sub.abort.abort();
    this.#subs.delete(key);
    this.#status.delete(key);
    this.#connected.remove({ connection: key });
    this.#o.registry.busStateChanged(key);
  }

  async #stopAll(): Promise<void> {
    const subs = [...this.#subs.entries()];
    for (const [key, sub] of subs) this.#stop(key, sub);
    await Promise.all(subs.map(([, s]) => s.done));
  }
}
