// metav1.Condition semantics: one condition per type; lastTransitionTime moves only when the
// status flips, so "since when is it Ready" stays true while reasons and messages change.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** metav1.Time has second precision; writing it that way keeps the cache and the server equal. */
export function metav1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Sets a condition in place; returns true when anything changed. `now` is the transition time
 * used when the status flips (or the condition is new).
 */
export function setCondition(conditions: Condition[], input: ConditionInput, now: number = Date.now()): boolean {
  const existing = conditions.find((c) => c.type === input.type);
  if (!existing) {
    conditions.push({ ...stripUndefined(input), lastTransitionTime: metav1Time(now) });
    return true;
  }
  let changed = false;
  if (existing.status !== input.status) {
    existing.status = input.status;
    existing.lastTransitionTime = metav1Time(now);
    changed = true;
  }
  if (existing.reason !== input.reason) {
    existing.reason = input.reason;
    changed = true;
  }
  if (existing.message !== input.message) {
    existing.message = input.message;
    changed = true;
  }
  if (input.observedGeneration !== undefined && existing.observedGeneration !== input.observedGeneration) {
    existing.observedGeneration = input.observedGeneration;
    changed = true;
  }
  return changed;
}

/** Removes the condition of that type; returns true when there was one. */
export function removeCondition(conditions: Condition[], type: string): boolean {
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) return false;
  conditions.splice(i, 1);
  return true;
}

function stripUndefined(input: ConditionInput): ConditionInput {
  const out = { ...input };
  if (out.observedGeneration === undefined) delete out.observedGeneration;
  return out;
}
