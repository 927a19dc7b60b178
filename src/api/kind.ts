// What defines a kind: its names, scope, schema and printer columns. The CRD generator, the
// validators and the runtime's resource descriptor are all derived from one KindDefinition.
import Type, { type TSchema } from 'typebox';
import { API_VERSION, CATEGORY, GROUP, ObjectMeta, VERSION } from './common.ts';

/** Identity of a resource type, as the runtime and the REST paths need it. */
export interface ResourceDescriptor {
  readonly group: typeof GROUP;
  readonly version: typeof VERSION;
  readonly apiVersion: typeof API_VERSION;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  /** 0 in the default view; 1 only with `-o wide`. */
  priority?: number;
}

export interface KindDefinition<S extends TSchema = TSchema> extends ResourceDescriptor {
  /** The whole object (apiVersion, kind, metadata, spec, status); its description says what the kind is for. */
  readonly schema: S;
  readonly printerColumns: readonly PrinterColumn[];
}

export function defineKind<S extends TSchema>(d: {
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames: string[];
  schema: S;
  printerColumns: PrinterColumn[];
}): KindDefinition<S> {
  return {
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    listKind: `${d.kind}List`,
    singular: d.kind.toLowerCase(),
    categories: [CATEGORY],
    ...d,
  };
}

/** The descriptor alone, without schema: what the runtime needs to list, watch and patch. */
export function descriptorOf(d: KindDefinition): ResourceDescriptor {
  const { group, version, apiVersion, kind, listKind, plural, singular, namespaced, shortNames, categories } = d;
  return { group, version, apiVersion, kind, listKind, plural, singular, namespaced, shortNames, categories };
}

/** The full object schema of a kind: standard envelope around its spec and status. */
export function objectSchema<const K extends string, Spec extends TSchema, Status extends TSchema>(kind: K, description: string, spec: Spec, status: Status) {
  return Type.Object(
    {
      apiVersion: Type.Unsafe<typeof API_VERSION>({ type: 'string', enum: [API_VERSION], description: `Always ${API_VERSION}.` }),
      kind: Type.Unsafe<K>({ type: 'string', enum: [kind], description: `Always ${kind}.` }),
      metadata: ObjectMeta,
      spec,
      status: Type.Optional(status),
    },
    { description },
  );
}

const ready = '.status.conditions[?(@.type=="Ready")]';

/** Ready first; the kind's identity columns go between this and `tailColumns()`. */
export function readyColumn(): PrinterColumn {
  return { name: 'Ready', type: 'string', jsonPath: `${ready}.status`, description: 'Whether the object is usable (the Ready condition).' };
}

/** Reason and message of Ready in `-o wide`, then Age, as cert-manager and nsx-operator show them. */
export function tailColumns(): PrinterColumn[] {
  return [
    { name: 'Reason', type: 'string', jsonPath: `${ready}.reason`, description: 'Why the object is or is not Ready.', priority: 1 },
    { name: 'Message', type: 'string', jsonPath: `${ready}.message`, description: 'What happened and what to do about it.', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the object was created.' },
  ];
}
