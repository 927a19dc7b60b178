// What every controller factory receives from the wiring in src/controllers/index.ts.
import type { Manager } from '../runtime/index.ts';
import type { Directory, EngineOptions } from '../reconcile/index.ts';
import type { NsxConnectionPool, VcdConnectionPool } from '../reconcile/connections/index.ts';
import type { EventBus, EventKeyRegistry } from '../reconcile/events/index.ts';

export interface ControllerDeps {
  manager: Manager;
  /** Logged-in VCD clients per connection, with the tenancy rules applied. */
  pool: VcdConnectionPool;
  /** Logged-in NSX clients per NSXConnection (provider-only). */
  nsxPool: NsxConnectionPool;
  /** UID of the kube-system namespace: the cluster identity written into ownership markers. */
  clusterId: string;
  /** Whether the operator watches this namespace (all when it runs cluster-wide). */
  namespaceInScope: (namespace: string) => boolean;
  /** How long an allocate or create whose answer was lost may still complete (the task deadline). */
  pendingWindowMs: number;
  /** How often Ready objects are checked against the cloud for drift. */
  driftCheckMs: number;
  /** Claim groups (connection, org, IP Space) reconciled at once, per claim kind. */
  claimWorkers: number;
  /** Name↔id lookups shared by every controller. */
  directory: Directory;
  /** VCD entity → keys: a controller registers what its keys depend on and gets a Source. */
  events: EventKeyRegistry;
  /** The message-bus subscriptions (their state per connection). */
  eventBus: EventBus;
}

/** The engines' options from the wiring; a controller may shorten its retry period (tests do). */
export function engineOptions(deps: ControllerDeps, o: { retryMs?: number } = {}): EngineOptions {
  return {
    clock: deps.manager.clock,
    namespaceInScope: deps.namespaceInScope,
    pendingWindowMs: deps.pendingWindowMs,
    driftCheckMs: deps.driftCheckMs,
    retryMs: o.retryMs ?? 30_000,
    pollPendingMs: 1000,
  };
}
