// Validation by the operator itself, from the same schemas the CRDs are generated from: Ajv for
// the structural part, then every rule's TypeScript twin (CEL ones and operator-only ones). A spec
// that slipped past admission (a cluster without CEL, an object written before a rule existed)
// becomes an InvalidSpec condition with these messages, and nothing is written to the cloud.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import type { Static, TSchema } from 'typebox';
import { Reasons } from './common.ts';
import type { KindDefinition } from './kind.ts';
import { toOpenAPI } from './openapi.ts';
import { isTransitionRule, rulesOf } from './rules.ts';

export interface FieldProblem {
  /** Path of the offending field, e.g. `spec.ipRanges[0].start`. */
  field: string;
  /** What is wrong and what to do. */
  message: string;
}

export type ValidationResult<T> = { valid: true; object: T } | { valid: false; problems: FieldProblem[]; message: string };

/** Thrown by `Validator.assert`; carries the condition reason and the per-field problems. */
export class InvalidSpecError extends Error {
  readonly reason = Reasons.InvalidSpec;
  readonly problems: FieldProblem[];
  constructor(problems: FieldProblem[]) {
    super(formatProblems(problems));
    this.name = 'InvalidSpecError';
    this.problems = problems;
  }
}

export interface Validator<T> {
  /** Checks an object; pass the stored object as `old` on update to apply immutability rules. */
  validate(obj: unknown, old?: unknown): ValidationResult<T>;
  /** Like validate, but returns the typed object or throws InvalidSpecError. */
  assert(obj: unknown, old?: unknown): T;
  /** What is wrong with the object, or undefined when it is valid. */
  problem(obj: unknown, old?: unknown): string | undefined;
}

export function formatProblems(problems: FieldProblem[]): string {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ');
}

type AjvPlugin = (ajv: Ajv) => Ajv;
// ajv-formats is CommonJS; under Node's ESM loader its default import is the plugin itself.
const addFormats = addFormatsPlugin as unknown as AjvPlugin;

let shared: Ajv | undefined;
/**
 * Ajv as the validators use it. It does not check each schema against the JSON Schema meta-schema
 * when compiling: that compiled the meta-schema too, a third of the compile time at start-up, for
 * schemas that never change at run time. A unit test checks every kind's schema with it instead.
 */
export function ajv(opts: { validateSchema?: boolean } = {}): Ajv {
  if (opts.validateSchema) return withFormats(new Ajv({ allErrors: true, strict: true }));
  shared ??= withFormats(new Ajv({ allErrors: true, strict: true, validateSchema: false }));
  return shared;
}

function withFormats(a: Ajv): Ajv {
  addFormats(a);
  a.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return a;
}

/** `/spec/ipRanges/0/start` → `spec.ipRanges[0].start` */
function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^[0-9]+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function join(path: string, child: string): string {
  return path ? `${path}.${child}` : child;
}

function schemaProblem(e: ErrorObject): FieldProblem {
  const field = fieldOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { field: join(field, String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { field: join(field, String(p.additionalProperty)), message: 'unknown field; check its spelling with kubectl explain' };
    case 'enum':
      return { field, message: `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}` };
    default:
      return { field, message: e.message ?? `fails ${e.keyword}` };
  }
}

type Node = { properties?: Record<string, Node>; items?: Node; additionalProperties?: Node | boolean; [k: string]: unknown };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies the rules attached along the schema, as the apiserver applies CEL: `self` is the node's value. */
function checkRules(schema: Node, value: unknown, old: unknown, path: string, out: FieldProblem[]): void {
  if (value === undefined) return;
  for (const r of rulesOf(schema)) {
    // Like Kubernetes, transition rules run only where there is a stored value to compare with.
    if (isTransitionRule(r) && old === undefined) continue;
    if (!r.check(value, old)) {
      out.push({ field: r.fieldPath ? path + r.fieldPath : path, message: r.message });
    }
  }
  if (isRecord(value)) {
    for (const [k, child] of Object.entries(schema.properties ?? {})) {
      checkRules(child, value[k], isRecord(old) ? old[k] : undefined, join(path, k), out);
    }
    const extra = schema.additionalProperties;
    if (typeof extra === 'object') {
      for (const [k, v] of Object.entries(value)) checkRules(extra, v, undefined, join(path, k), out);
    }
  }
  if (Array.isArray(value) && schema.items) {
    const keys = schema['x-kubernetes-list-map-keys'] as string[] | undefined;
    if (schema['x-kubernetes-list-type'] === 'map' && keys) {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const key = JSON.stringify(keys.map((k) => (isRecord(item) ? item[k] : undefined)));
        if (seen.has(key)) out.push({ field: `${path}[${i}]`, message: `duplicate entry for ${keys.join(', ')} ${key}` });
        seen.add(key);
      });
    }
    // List items are not correlated with the stored list, so no transition rules run inside lists.
    value.forEach((item, i) => checkRules(schema.items as Node, item, undefined, `${path}[${i}]`, out));
  }
}

/** The validator of one kind; Ajv compiles lazily, on first use. */
export function validatorFor<S extends TSchema>(def: KindDefinition<S>): Validator<Static<S>> {
  let compiled: ValidateFunction | undefined;
  const validate = (obj: unknown, old?: unknown): ValidationResult<Static<S>> => {
    compiled ??= ajv().compile(toOpenAPI(def.schema, 'ajv'));
    let problems: FieldProblem[];
    if (!compiled(obj)) {
      problems = (compiled.errors ?? []).map(schemaProblem);
    } else {
      problems = [];
      checkRules(def.schema as unknown as Node, obj, old, '', problems);
    }
    if (problems.length === 0) return { valid: true, object: obj as Static<S> };
    const unique = [...new Map(problems.map((p) => [`${p.field}\u0000${p.message}`, p])).values()];
    return { valid: false, problems: unique, message: formatProblems(unique) };
  };
  return {
    validate,
    assert(obj, old) {
      const r = validate(obj, old);
      if (!r.valid) throw new InvalidSpecError(r.problems);
      return r.object;
    },
    problem(obj, old) {
      const r = validate(obj, old);
      return r.valid ? undefined : r.message;
    },
  };
}
