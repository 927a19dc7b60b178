// Which keys depend on a VCD entity. A controller registers a mapping ("an IP Space event
// enqueues these keys") and puts the Source it gets back in its definition; the message-bus code
// dispatches events here without knowing any controller. Events are hints: the keys are
// reconciled like any other, from a fresh read of VCD.
import { Counter, type Registry } from 'prom-client';
import type { Source } from '../../runtime/index.ts';
import type { VcdBusEvent } from '../../clients/vcd/index.ts';

export interface EntityEvent {
  /** The connection key whose subscription delivered the event. */
  connection: string;
  event: VcdBusEvent;
  /** The URN types of the event's entity and nested object ('ipSpace', 'ipSpaceIpAllocation'...). */
  entityTypes: string[];
  /** Whether the operator's own session caused it. */
  ownWrite: boolean;
}

export interface EventMapping {
  /** URN types this mapping answers for, e.g. ['ipSpace', 'ipSpaceIpAllocation'] or ['gateway']. */
  entityTypes: string[];
  /** The controller's keys that depend on the event's entity. */
  keys(e: EntityEvent): Iterable<string>;
  /** Every key that works through a connection: enqueued once when its bus comes back. */
  keysOfConnection?(connection: string): Iterable<string>;
}

export type EnqueueCause = 'event' | 'own_write' | 'catch_up' | 'bus_state';

interface Registration {
  controller: string;
  mapping: Partial<EventMapping> & { keysOfBusState?(connection: string): Iterable<string> };
  enqueue?: (keys: Iterable<string>) => void;
}

export class EventKeyRegistry {
  readonly #regs: Registration[] = [];
  readonly #enqueued: Counter<'controller' | 'cause'> | undefined;

  /** `metrics`: where vcd_operator_event_keys_enqueued_total is registered. */
  constructor(opts: { metrics?: Registry } = {}) {
    this.#enqueued = opts.metrics
      ? new Counter({
          name: 'vcd_operator_event_keys_enqueued_total',
          help: 'Keys enqueued from VCD message-bus events, by controller and cause: event (a write by someone else), own_write (a write of the operator itself; at most one extra reconcile each, usually folded by the work queue), catch_up (the bus came back), bus_state',
          labelNames: ['controller', 'cause'],
          registers: [opts.metrics],
        })
      : undefined;
  }

  /** Registers a controller's mapping; put the returned Source in its definition's `sources`. */
  source(controller: string, mapping: EventMapping): Source {
    return this.#register(controller, mapping);
  }

  /** A controller that shows a connection's bus state (the connection controllers) and its keys. */
  busStateSource(controller: string, keysOf: (connection: string) => Iterable<string>): Source {
    return this.#register(controller, { keysOfBusState: keysOf });
  }

  /** Enqueues the keys that depend on an event; returns how many were enqueued. */
  dispatch(e: EntityEvent): number {
    let total = 0;
    for (const r of this.#regs) {
      if (!r.enqueue || !r.mapping.keys || !r.mapping.entityTypes?.some((t) => e.entityTypes.includes(t))) continue;
      total += this.#enqueue(r, r.mapping.keys(e), e.ownWrite ? 'own_write' : 'event');
    }
    return total;
  }

  /** After the bus was away: every key working through `connection`, once (events may be lost). */
  catchUp(connection: string): number {
    let total = 0;
    for (const r of this.#regs) if (r.enqueue && r.mapping.keysOfConnection) total += this.#enqueue(r, r.mapping.keysOfConnection(connection), 'catch_up');
    return total;
  }

  /** The bus of `connection` changed state: its connection object re-reconciles to show it. */
  busStateChanged(connection: string): void {
    for (const r of this.#regs) if (r.enqueue && r.mapping.keysOfBusState) this.#enqueue(r, r.mapping.keysOfBusState(connection), 'bus_state');
  }

  #register(controller: string, mapping: Registration['mapping']): Source {
    const reg: Registration = { controller, mapping };
    this.#regs.push(reg);
    return {
      name: 'vcd-events',
      start: async (enqueue, signal) => {
        reg.enqueue = enqueue;
        try {
          if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        } finally {
          reg.enqueue = undefined;
        }
      },
    };
  }

  #enqueue(r: Registration, keys: Iterable<string>, cause: EnqueueCause): number {
    const unique = [...new Set(keys)];
    if (unique.length === 0 || !r.enqueue) return 0;
    r.enqueue(unique);
    this.#enqueued?.inc({ controller: r.controller, cause }, unique.length);
    return unique.length;
  }
}
