// Ready and Synced, written by one rule for every kind (crossplane's pair, cert-manager's
// semantics): Ready says whether the cloud object is usable, Synced whether the last reconcile
// did what the spec asks. An invalid spec is Ready=False and Synced=False, both InvalidSpec, and
// nothing is sent to the cloud. A failure leaves Ready as it was when the object was usable and
// the failure does not say otherwise (an IP that exists stays usable while VCD is unreachable).
import { Reasons } from '../api/index.ts';
import type { Condition, StatusShape, StatusWriter } from '../runtime/index.ts';
import type { Problem } from './problems.ts';

export interface Verdict {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** What one reconcile concluded about one object. */
export interface Outcome {
  ready: Verdict | 'unchanged';
  synced: Verdict;
}

export const SYNCED: Verdict = { status: 'True', reason: Reasons.ReconcileSuccess, message: 'The last reconcile succeeded.' };

export function ready(reason: string, message: string): Outcome {
  return { ready: { status: 'True', reason, message }, synced: SYNCED };
}

export function invalidSpec(message: string): Outcome {
  const v: Verdict = { status: 'False', reason: Reasons.InvalidSpec, message: `${message}. Fix the spec; nothing is sent to the cloud until then.` };
  return { ready: v, synced: v };
}

/**
 * Problems whose reason never takes a usable cloud object away: it is there, and we cannot reach
 * it now or the cloud refused a change to it (Synced says so).
 */
const KEEPS_READY = new Set<string>([Reasons.ConnectionNotReady, Reasons.Unreachable, Reasons.ReconcileError, Reasons.Refused]);

/**
 * A failure. Ready goes False unless the object was Ready and the problem is one of
 * connectivity (`keepReady` decides otherwise when given).
 */
export function failed(p: Problem, current: readonly Condition[] | undefined, opts: { keepReady?: boolean } = {}): Outcome {
  const v: Verdict = { status: 'False', reason: p.reason, message: p.message };
  const wasReady = current?.find((c) => c.type === 'Ready')?.status === 'True';
  const keep = opts.keepReady ?? (wasReady && KEEPS_READY.has(p.reason));
  return { ready: keep ? 'unchanged' : v, synced: v };
}

/**
 * The condition types an engine writes. A controller that adds a facet to a kind another
 * controller owns (Tier-0 advertisement of an IPSpace) writes its own type and leaves Ready and
 * Synced to the owner; `synced` absent means it writes one condition only.
 */
export interface ConditionTypes {
  ready: string;
  synced?: string;
  /**
   * A status field (an object) whose own `conditions` list holds them, instead of
   * status.conditions: a merge patch replaces a list whole, so two controllers must never write
   * the same list from copies that may be stale.
   */
  field?: string;
}

/** The object holding the conditions of `types` inside a status; created when `create`. */
export function conditionHolder(status: StatusShape | undefined, types: ConditionTypes, create: true): StatusShape;
export function conditionHolder(status: StatusShape | undefined, types: ConditionTypes, create?: false): StatusShape | undefined;
export function conditionHolder(status: StatusShape | undefined, types: ConditionTypes, create = false): StatusShape | undefined {
  if (types.field === undefined || status === undefined) return status;
  const v = status[types.field];
  if (typeof v === 'object' && v !== null) return v as StatusShape;
  if (!create) return undefined;
  const holder: StatusShape = {};
  status[types.field] = holder;
  return holder;
}

export const READY_SYNCED: ConditionTypes = { ready: 'Ready', synced: 'Synced' };

/** Writes an outcome into a status being mutated (inside StatusWriter.patchStatus). */
export function applyOutcome(writer: StatusWriter, top: StatusShape, generation: number, o: Outcome, types: ConditionTypes = READY_SYNCED): void {
  const status = conditionHolder(top, types, true);
  status.conditions ??= [];
  if (types.synced === undefined) {
    // One condition: it says whether the facet is in place, or why not.
    const v = o.synced.status === 'False' ? o.synced : o.ready;
    if (v !== 'unchanged') writer.setCondition(status.conditions, { type: types.ready, ...v, observedGeneration: generation });
    return;
  }
  if (o.ready !== 'unchanged') writer.setCondition(status.conditions, { type: types.ready, ...o.ready, observedGeneration: generation });
  writer.setCondition(status.conditions, { type: types.synced, ...o.synced, observedGeneration: generation });
}
