// The CustomResourceDefinition of a kind, in wire form (the keys a YAML file holds), derived
// from its KindDefinition: structural schema with CEL rules, status subresource, printer columns,
// short names and the `vcd` category.
import type { KindDefinition } from './kind.ts';
import { toOpenAPI, type JsonSchema } from './openapi.ts';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: {
      name: string;
      served: true;
      storage: true;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: JsonSchema[];
      schema: { openAPIV3Schema: JsonSchema };
    }[];
  };
}

// The envelope fields are the apiserver's business: plain strings and an unconstrained metadata
// object, as every CRD declares them.
const ENVELOPE = {
  apiVersion: {
    description:
      'APIVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
    type: 'string',
  },
  kind: {
    description:
      'Kind is a string value representing the REST resource this object represents. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
    type: 'string',
  },
  metadata: { type: 'object' },
};

export function crdOf(def: KindDefinition): CustomResourceDefinition {
  const full = toOpenAPI(def.schema, 'crd');
  const props = full.properties as Record<string, JsonSchema>;
  const openAPIV3Schema: JsonSchema = {
    description: full.description,
    type: 'object',
    required: ['spec'],
    properties: { ...ENVELOPE, spec: props.spec, status: props.status },
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${def.group}`,
      labels: { 'app.kubernetes.io/name': 'vcd-operator', 'app.kubernetes.io/part-of': 'vcd-operator' },
    },
    spec: {
      group: def.group,
      scope: def.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [...def.categories],
      },
      versions: [
        {
          name: def.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

/** The file a CRD is written to under crds/. */
export function crdFileName(def: KindDefinition): string {
  return `${def.plural}.${def.group}.yaml`;
}
