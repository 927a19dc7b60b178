// The shared reconcile layer: policy every controller follows, written once. Controllers are
// small adapters on one of the two engines (managed: one object ↔ one cloud object; grouped: many
// objects ↔ one shared cloud object or list).
export { Problem, problemOf, certainlyNotWritten, outcomeUnknown, errorMessage, type ProblemOptions } from './problems.ts';
export { formatMarker, parseMarker, markerFor, isOwnedBy, splitDescription, joinDescription, type Marker, type MarkerInput } from './markers.ts';
export { CREATE_PENDING_ANNOTATION, pendingSince, pendingDecision, writePending, type PendingDecision } from './pending.ts';
export { SYNCED, READY_SYNCED, ready, invalidSpec, failed, applyOutcome, type ConditionTypes, type Outcome, type Verdict } from './conditions.ts';
export { Directory, type DirectoryOptions } from './directory.ts';
export { Refusals, type RefusalOptions } from './refusals.ts';
export { jsonKeyCodec, type KeyCodec } from './keys.ts';
export type { EngineOptions } from './engine-options.ts';
export { managedController, type ManagedDefinition, type ManagedExternal, type ManagedObject, type ManagedStatus, type Report } from './managed.ts';
export {
  groupedController,
  Group,
  GROUP_INDEX,
  type GroupedDefinition,
  type GroupedObject,
  type AdmissionCheck,
  type AdmitContext,
  validSpec,
} from './grouped.ts';
export { mapLimit } from './parallel.ts';
