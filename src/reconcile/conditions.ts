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

/** Writes an outcome into a status being mutated (inside StatusWriter.patchStatus). */
export function applyOutcome(writer: StatusWriter, status: StatusShape, generation: number, o: Outcome): void {
  status.conditions ??= [];
  if (o.ready !== 'unchanged') writer.setCondition(status.conditions, { type: 'Ready', ...o.ready, observedGeneration: generation });
  writer.setCondition(status.conditions, { type: 'Synced', ...o.synced, observedGeneration: generation });
}
