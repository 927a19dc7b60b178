// metav1.LabelSelector as a schema: every matchLabels pair and every matchExpressions requirement
// must hold; an empty selector matches everything. (Matching lives with the connections controller.)
import Type from 'typebox';
import { List, Obj, Str, StrEnum, LabelMap } from './common.ts';
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
    matchLabels: Type.Optional(LabelMap('Labels that must all be present with these values.', { maxProperties: 64 })),
    matchExpressions: Type.Optional(List(Requirement, 'Requirements that must all hold.', { maxItems: 32 })),
  },
  'A label selector (metav1.LabelSelector): every matchLabels pair and every matchExpressions requirement must hold; {} matches everything.',
);
export type LabelSelector = Type.Static<typeof LabelSelector>;

