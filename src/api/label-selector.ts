// metav1.LabelSelector as a schema: every matchLabels pair and every matchExpressions requirement
// must hold; an empty selector matches everything. Keys and values are checked the way Kubernetes
// checks them when it turns a LabelSelector into a selector, so a selector that Kubernetes would
// refuse is refused at admission rather than silently matching nothing. (Matching lives with the
// connections controller.)
import Type from 'typebox';
import { List, Obj, Str, StrEnum } from './common.ts';
import { cel, withRules } from './rules.ts';

export const SelectorOperators = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

// A qualified name: an optional DNS-1123 subdomain prefix (at most 253 characters) and '/', then a
// name of at most 63 characters from [A-Za-z0-9-_.] that starts and ends with a letter or digit.
const LABEL_KEY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_KEY_PREFIX = '^[^/]{1,253}/';
// A label value: empty, or at most 63 characters from [A-Za-z0-9-_.], starting and ending with a letter or digit.
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';
const LABEL_KEY_RE = new RegExp(LABEL_KEY);
const LABEL_KEY_PREFIX_RE = new RegExp(LABEL_KEY_PREFIX);
const LABEL_VALUE_RE = new RegExp(LABEL_VALUE);

const LABEL_KEY_CEL = (v: string) => `${v}.matches('${LABEL_KEY}') && (!${v}.contains('/') || ${v}.matches('${LABEL_KEY_PREFIX}'))`;

export const LABEL_KEY_MESSAGE =
  "must be a label key: an optional DNS subdomain prefix and '/', then a name of at most 63 letters, digits, '-', '_' or '.' that starts and ends with a letter or digit, e.g. kubernetes.io/metadata.name";

export function isLabelKey(s: string): boolean {
  return LABEL_KEY_RE.test(s) && (!s.includes('/') || LABEL_KEY_PREFIX_RE.test(s));
}

export function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE_RE.test(s);
}

// A pattern rather than a CEL rule: values sit in lists inside lists (tenant bindings), where a CEL
// rule per value exceeds the apiserver's cost budget; a pattern costs nothing and Ajv checks it too.
function LabelValue(description: string) {
  return Str(description, { maxLength: 63, pattern: LABEL_VALUE });
}

const MatchLabels = withRules(
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: LabelValue('A label value.'),
    description: 'Labels that must all be present with these values.',
    maxProperties: 64,
  }),
  [cel(`self.all(k, ${LABEL_KEY_CEL('k')})`, `every key ${LABEL_KEY_MESSAGE}`, (s) => Object.keys(s).every(isLabelKey))],
);

const Requirement = withRules(
  Obj(
    {
      key: withRules(Str('The label key the requirement applies to.', { minLength: 1, maxLength: 317 }), [
        cel(LABEL_KEY_CEL('self'), LABEL_KEY_MESSAGE, isLabelKey),
      ]),
      operator: StrEnum(SelectorOperators, "How the key's value is compared: In, NotIn, Exists or DoesNotExist."),
      values: Type.Optional(
        List(LabelValue('A label value.'), 'Values for In and NotIn (at least one); must be empty for Exists and DoesNotExist.', {
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
    matchLabels: Type.Optional(MatchLabels),
    matchExpressions: Type.Optional(List(Requirement, 'Requirements that must all hold.', { maxItems: 32 })),
  },
  'A label selector (metav1.LabelSelector): every matchLabels pair and every matchExpressions requirement must hold; {} matches everything.',
);
export type LabelSelector = Type.Static<typeof LabelSelector>;
