// What both engines need from the operator's wiring.
import type { Clock } from '../runtime/index.ts';

export interface EngineOptions {
  /** The manager's clock: every engine and adapter reads time from here. */
  clock: Clock;
  /** Whether the operator watches this namespace (all when it runs cluster-wide). */
  namespaceInScope: (namespace: string) => boolean;
  /** How long a write whose answer was lost may still complete (the task deadline plus slack). */
  pendingWindowMs: number;
  /** How often Ready objects are checked against the cloud. */
  driftCheckMs: number;
  /** How soon an object stuck on something outside it (a refusal, a missing reference) is tried again. */
  retryMs: number;
  /** How often to look for a write whose outcome is not known yet. */
  pollPendingMs: number;
}
