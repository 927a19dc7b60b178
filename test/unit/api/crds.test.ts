// What every generated CRD must carry for users (kubectl explain, get, short names, category)
// and for the apiserver (structural schema), and proof that every validation rule is exercised
// by the shared case table, so no CEL rule or TypeScript twin goes untested.
import assert from 'node:assert/strict';
import { crdOf, kinds } from '../../../src/api/index.ts';
import { isTransitionRule, rulesOf, type Rule } from '../../../src/api/rules.ts';
import { operatorOnly, rejected } from './cases.ts';

type Node = Record<string, unknown>;

function* nodes(schema: Node, path: string): Generator<[string, Node]> {
  yield [path, schema];
  for (const [k, v] of Object.entries((schema.properties as Record<string, Node> | undefined) ?? {})) yield* nodes(v, `${path}.${k}`);
  if (schema.items) yield* nodes(schema.items as Node, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') yield* nodes(schema.additionalProperties as Node, `${path}{}`);
}

const expectedNames: Record<string, { shortNames: string[]; scope: string }> = {
  VCDConnection: { shortNames: ['vcdconn'], scope: 'Namespaced' },
  ClusterVCDConnection: { shortNames: ['cvcdconn'], scope: 'Cluster' },
  IPSpace: { shortNames: ['ips'], scope: 'Namespaced' },
  FloatingIPClaim: { shortNames: ['fip'], scope: 'Namespaced' },
  IPPrefixClaim: { shortNames: ['ipp'], scope: 'Namespaced' },
  VCenterTrust: { shortNames: ['vctrust'], scope: 'Cluster' },
  EdgeFirewallRule: { shortNames: ['efw'], scope: 'Namespaced' },
  NSXConnection: { shortNames: ['nsxconn'], scope: 'Cluster' },
  EdgeStaticRoute: { shortNames: ['esr'], scope: 'Namespaced' },
  EdgeGatewayUplink: { shortNames: ['egu'], scope: 'Namespaced' },
  TrafficMeter: { shortNames: ['tmeter'], scope: 'Cluster' },
};

describe('generated CRDs', function () {
  it('cover every kind of vcd-operator.io/v1alpha1', function () {
    assert.deepEqual(kinds.map((k) => k.kind).sort(), Object.keys(expectedNames).sort());
  });

  for (const def of kinds) {
    describe(def.kind, function () {
      const crd = crdOf(def);
      const version = crd.spec.versions[0];
      const schema = version?.schema.openAPIV3Schema ?? {};

      it('has its names, short names, the vcd category, scope and a status subresource', function () {
        assert.equal(crd.metadata.name, `${def.plural}.vcd-operator.io`);
        assert.deepEqual(crd.spec.names.shortNames, expectedNames[def.kind]?.shortNames);
        assert.deepEqual(crd.spec.names.categories, ['vcd']);
        assert.equal(crd.spec.scope, expectedNames[def.kind]?.scope);
        assert.equal(crd.spec.versions.length, 1);
        assert.equal(version?.name, 'v1alpha1');
        assert.deepEqual(version?.subresources, { status: {} });
      });

      it('describes every field, so kubectl explain teaches', function () {
        const blank = [...nodes(schema, def.kind)].filter(([p, n]) => p !== `${def.kind}.metadata` && typeof n.description !== 'string').map(([p]) => p);
        assert.deepEqual(blank, []);
      });

      it('is structural: every node typed, no keywords the apiserver rejects', function () {
        for (const [p, n] of nodes(schema, def.kind)) {
          assert.ok(typeof n.type === 'string', `${p} has no type`);
          for (const k of ['$ref', '$id', 'anyOf', 'oneOf', 'allOf', 'not', 'const', 'patternProperties', 'definitions'])
            assert.ok(!(k in n), `${p} uses ${k}`);
          if (n.additionalProperties !== undefined) assert.ok(!n.properties, `${p} has both properties and additionalProperties`);
        }
      });

      it('bounds every list and string that CEL walks, so cost estimation passes', function () {
        for (const [p, n] of nodes(schema, def.kind)) {
          if (n.type === 'array') assert.ok(typeof n.maxItems === 'number', `${p} has no maxItems`);
          if (n.type === 'string' && !n.enum && !p.endsWith('.apiVersion') && !p.endsWith('.kind') && !p.endsWith('.lastTransitionTime')) {
            assert.ok(typeof n.maxLength === 'number', `${p} has no maxLength`);
          }
        }
      });

      it('shapes status like the conventions: observedGeneration and a map of metav1.Condition', function () {
        const status = (schema.properties as Record<string, Node>).status as Node;
        const props = status.properties as Record<string, Node>;
        assert.equal(props.observedGeneration?.type, 'integer');
        const conditions = props.conditions as Node;
        assert.equal(conditions['x-kubernetes-list-type'], 'map');
        assert.deepEqual(conditions['x-kubernetes-list-map-keys'], ['type']);
        const condition = conditions.items as Node;
        assert.deepEqual(condition.required, ['type', 'status', 'lastTransitionTime', 'reason', 'message']);
        const c = condition.properties as Record<string, Node>;
        assert.equal(c.reason?.pattern, '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$');
        assert.equal(c.reason?.maxLength, 1024);
        assert.equal(c.message?.maxLength, 32768);
        assert.equal(c.type?.maxLength, 316);
        assert.deepEqual(c.status?.enum, ['True', 'False', 'Unknown']);
        assert.equal(c.lastTransitionTime?.format, 'date-time');
      });

      it('prints Ready first, identity in between, Reason and Message in -o wide, Age last', function () {
        const cols = version?.additionalPrinterColumns ?? [];
        assert.deepEqual(cols[0], {
          name: 'Ready',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Ready")].status',
          description: 'Whether the object is usable (the Ready condition).',
        });
        assert.equal(cols.at(-1)?.name, 'Age');
        const message = cols.find((c) => c.name === 'Message');
        assert.equal(message?.priority, 1);
        assert.ok(cols.length >= 4, 'an identity column between Ready and the tail');
      });

      it('emits CEL rules only, never the operator-only checks', function () {
        for (const [p, n] of nodes(schema, def.kind)) {
          for (const r of (n['x-kubernetes-validations'] as Node[] | undefined) ?? []) {
            assert.equal(typeof r.rule, 'string', `${p}: a rule without CEL reached the CRD`);
            assert.equal(typeof r.message, 'string');
            assert.ok(!('check' in r));
          }
        }
      });
    });
  }

  it('keeps transition rules (oldSelf) out of lists, where the operator cannot pair old and new items', function () {
    const misplaced: string[] = [];
    const walk = (s: Node, path: string, inList: boolean) => {
      if (inList)
        misplaced.push(
          ...rulesOf(s)
            .filter(isTransitionRule)
            .map((r) => `${path}: ${r.message}`),
        );
      for (const [k, v] of Object.entries((s.properties as Record<string, Node> | undefined) ?? {})) walk(v, `${path}.${k}`, inList);
      if (s.items) walk(s.items as Node, `${path}[]`, true);
    };
    for (const def of kinds) walk(def.schema as unknown as Node, def.kind, false);
    assert.deepEqual(misplaced, []);
  });

  it('exercises every rule: CEL ones in the shared rejected table, operator-only ones in operatorOnly', function () {
    const all: Rule<unknown>[] = [];
    const walk = (s: Node) => {
      all.push(...rulesOf(s));
      for (const v of Object.values((s.properties as Record<string, Node> | undefined) ?? {})) walk(v);
      if (s.items) walk(s.items as Node);
    };
    for (const def of kinds) walk(def.schema as unknown as Node);
    const celMessages = rejected.map((c) => (typeof c.message === 'string' ? c.message : ''));
    const semanticMessages = operatorOnly.map((c) => (typeof c.message === 'string' ? c.message : ''));
    const untested = all
      .filter((r) => !(r.rule !== undefined ? celMessages : semanticMessages).some((m) => m && r.message.startsWith(m)))
      .map((r) => r.message);
    assert.deepEqual(untested, []);
  });
});
