// metav1.LabelSelector as a schema, and the matching Kubernetes applies to it: every matchLabels
// pair and every matchExpressions requirement must hold; an empty selector matches everything.
import Type from 'typebox';
import { List, Obj, Str, StrEnum, StringMap } from './common.ts';
import { cel, withRules } from './rules.ts';

export const SelectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

const Requirement = withRules(
  Obj(
    {
      key: Str('The label key the requirement applies to.', { minLength: 1, maxLength: 317 }),
      operator: StrEnum(SelectorOperators, "How the key's value is compared: In, NotIn, Exists or DoesNotExist."),
      values: Type.Optional(
        List(Str('A label value.', { maxLength: 63 }), 'Values for In and NotIn (at least one); must be empty for Exists and DoesNotExist.', {
          maxItems: 64,
        }),
      ),
    },
    'A label requirement: a key, an operator and values.',
  ),
  [
    cel(
      "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
      'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist',
      (s) => (s.operator === 'In' || s.operator === 'NotIn' ? (s.values?.length ?? 0) > 0 : (s.values?.length ?? 0) === 0),
    ),
  ],
);

export const LabelSelector = Obj(
  {
    matchLabels: Type.Optional(StringMap('Labels that must all be present with these values.', { maxProperties: 64 })),
    matchExpressions: Type.Optional(List(Requirement, 'Requirements that must all hold.', { maxItems: 32 })),
  },
  'A label selector (metav1.LabelSelector): every matchLabels pair and every matchExpressions requirement must hold; {} matches everything.',
);
export type LabelSelector = Type.Static<typeof LabelSelector>;

/** Whether labels satisfy a selector, with Kubernetes' semantics. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, r.key);
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(l[r.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[r.key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}
