// Validation rules that live beside the schema node they guard. Each rule carries its CEL text
// (enforced by the apiserver at admission) and the same rule in TypeScript (enforced by the
// operator, for objects that reached it without admission), so the two cannot drift apart
// silently: one table of cases in the tests drives both.
import type { Static, TSchema } from 'typebox';

export const VALIDATIONS = 'x-kubernetes-validations';

/**
 * Field error reasons the apiserver accepts on a CEL rule. (FieldValueDuplicate is left out: the
 * apiserver then shows a bare "Duplicate value" and drops the message.)
 */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';

export interface Rule<S = never> {
  /** CEL, evaluated with `self` bound to this node (and `oldSelf` on update, for transition rules). */
  rule?: string;
  /** What is wrong and what to do about it; shown to the user by kubectl and in conditions. */
  message: string;
  /** The field the error points at, relative to this node, in CEL path form (`.address`). */
  fieldPath?: string;
  reason?: RuleReason;
  /** The TypeScript twin; `oldSelf` is only passed for transition rules, on update. */
  check: (self: S, oldSelf: S) => boolean;
}

/** A rule the apiserver enforces through CEL and the operator through `check`. */
export function cel<S>(rule: string, message: string, check: (self: S, oldSelf: S) => boolean, opts: Pick<Rule, 'fieldPath' | 'reason'> = {}): Rule<S> {
  return { rule, message, check, ...opts };
}

/**
 * A rule CEL cannot express within the apiserver's cost budget (or at all), checked only by the
 * operator: a spec that breaks it is reported as `InvalidSpec` and nothing is written to the cloud.
 */
export function semantic<S>(message: string, check: (self: S) => boolean, opts: Pick<Rule, 'fieldPath'> = {}): Rule<S> {
  return { message, check, ...opts };
}

/** True when a rule compares against the stored object, which Kubernetes decides the same way. */
export function isTransitionRule(r: Rule<unknown>): boolean {
  return r.rule !== undefined && /\boldSelf\b/.test(r.rule);
}

/** Attaches rules to a schema node (in place, so TypeBox's hidden markers survive) and returns it. */
export function withRules<T extends TSchema>(schema: T, rules: Rule<Static<T>>[]): T {
  const existing = (schema as Record<string, unknown>)[VALIDATIONS];
  Object.assign(schema, { [VALIDATIONS]: [...(Array.isArray(existing) ? (existing as unknown[]) : []), ...rules] });
  return schema;
}

/** The rules attached to a schema node. */
export function rulesOf(schema: object): Rule<unknown>[] {
  const r = (schema as Record<string, unknown>)[VALIDATIONS];
  return Array.isArray(r) ? (r as Rule<unknown>[]) : [];
}
