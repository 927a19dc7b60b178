// Turns a TypeBox schema into plain OpenAPI v3 JSON, in one of two flavours: the structural
// schema a CRD carries (CEL rules as x-kubernetes-validations), or the schema Ajv compiles for
// the operator's own validation (unknown fields are errors, Kubernetes extensions left out).
// Only the keywords Kubernetes accepts pass; anything else is a bug in a schema and throws here,
// before the apiserver would reject the CRD.
import { VALIDATIONS, type Rule } from './rules.ts';

export type JsonSchema = { [key: string]: unknown };

export type Flavour = 'crd' | 'ajv';

const VALUE_KEYWORDS = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
] as const;

const KUBERNETES_EXTENSIONS = [
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
] as const;

const KNOWN = new Set<string>([...VALUE_KEYWORDS, ...KUBERNETES_EXTENSIONS, VALIDATIONS, 'properties', 'items', 'additionalProperties']);

/** CEL rules as the apiserver wants them; operator-only (semantic) rules are left out. */
function celRules(rules: Rule<unknown>[]): JsonSchema[] {
  return rules
    .filter((r) => r.rule !== undefined)
    .map((r) => ({
      rule: r.rule,
      message: r.message,
      ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    }));
}

export function toOpenAPI(schema: object, flavour: Flavour, path = '<root>'): JsonSchema {
  const src = schema as JsonSchema;
  const out: JsonSchema = {};
  for (const key of Object.keys(src)) {
    if (key.startsWith('~')) continue; // TypeBox's own markers
    if (!KNOWN.has(key)) throw new Error(`${path}: keyword ${key} cannot go into a CRD schema`);
  }
  for (const key of VALUE_KEYWORDS) if (src[key] !== undefined) out[key] = structuredClone(src[key]);
  if (src.type === undefined) throw new Error(`${path}: every node of a structural schema needs a type`);

  const props = src.properties as Record<string, object> | undefined;
  if (props) {
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toOpenAPI(v, flavour, `${path}.${k}`)]));
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  }
  if (src.items) out.items = toOpenAPI(src.items, flavour, `${path}[]`);
  const additional = src.additionalProperties;
  if (typeof additional === 'object' && additional !== null) out.additionalProperties = toOpenAPI(additional, flavour, `${path}{}`);
  else if (additional === false && flavour === 'ajv') out.additionalProperties = false;

  if (flavour === 'crd') {
    for (const key of KUBERNETES_EXTENSIONS) if (src[key] !== undefined) out[key] = structuredClone(src[key]);
    const rules = celRules((src[VALIDATIONS] as Rule<unknown>[] | undefined) ?? []);
    if (rules.length) out[VALIDATIONS] = rules;
  } else if (props && additional === undefined && src.type === 'object') {
    // The apiserver prunes unknown fields silently; the operator reports them, so typos surface.
    out.additionalProperties = false;
  }
  return out;
}
