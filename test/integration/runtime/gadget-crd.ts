// A small CRD for runtime integration tests: spec.n and spec.edge, a status subresource.
import type { ResourceType } from '../../../src/runtime/index.ts';
import type { KubeObject } from '../../../src/runtime/index.ts';
import type { Condition } from '../../../src/runtime/index.ts';

export const gadgets: ResourceType = { group: 'runtime.vcd-operator.io', version: 'v1', plural: 'gadgets', kind: 'Gadget', namespaced: true };

export interface Gadget extends KubeObject {
  spec?: { n?: number; edge?: string };
  status?: { observedGeneration?: number; seen?: number; conditions?: Condition[] };
}

export const gadgetCRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `gadgets.${gadgets.group}` },
  spec: {
    group: gadgets.group,
    scope: 'Namespaced',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { n: { type: 'integer' }, edge: { type: 'string' } } },
              status: {
                type: 'object',
                properties: {
                  observedGeneration: { type: 'integer' },
                  seen: { type: 'integer' },
                  conditions: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['type'],
                    items: {
                      type: 'object',
                      required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
                      properties: {
                        type: { type: 'string' },
                        status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
                        reason: { type: 'string' },
                        message: { type: 'string' },
                        observedGeneration: { type: 'integer' },
                        lastTransitionTime: { type: 'string', format: 'date-time' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

export function gadget(name: string, namespace: string, spec: Gadget['spec'] = {}): Gadget {
  return { apiVersion: `${gadgets.group}/v1`, kind: 'Gadget', metadata: { name, namespace }, spec };
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
