// Every manifest in examples/ is admitted by the real apiserver with the generated CRDs.
// Namespaced objects are created for real in a fresh namespace (the shared apiserver must not
// collect a team-a from every run); Namespaces and cluster-scoped objects go through a
// server-side dry run, which runs the same validation and admission.
import assert from 'node:assert/strict';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';
import { loadExamples } from '../../unit/api/examples.ts';

describe('examples/ on the apiserver', function () {
  let client: KubernetesObjectApi;
  let ns: string;

  before(async function () {
    client = KubernetesObjectApi.makeApiClient(controlPlane().kubeConfig());
    ns = await freshNamespace('ex');
  });

  for (const { file, obj } of loadExamples()) {
    it(`${file}: ${obj.kind} ${obj.metadata.name} is admitted`, async function () {
      const copy = structuredClone(obj) as KubernetesObject & { metadata: { namespace?: string } };
      if (obj.metadata.namespace !== undefined) {
        copy.metadata.namespace = ns;
        const created = await client.create(copy);
        assert.equal(created.metadata?.name, obj.metadata.name);
        // What was stored is what the file says: no field was pruned as unknown.
        const stored = (await client.read({
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          metadata: { name: obj.metadata.name, namespace: ns },
        })) as unknown as Record<string, unknown>;
        if ('spec' in obj) assert.deepEqual(pickKeys(stored.spec, obj.spec), obj.spec);
      } else {
        await client.create(copy, undefined, 'All');
      }
    });
  }
});

/** The part of `actual` with the keys of `expected`, recursively (so server defaults do not count). */
function pickKeys(actual: unknown, expected: unknown): unknown {
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) return actual;
  if (Array.isArray(expected)) return Array.isArray(actual) ? actual.map((a, i) => pickKeys(a, expected[i])) : actual;
  return Object.fromEntries(Object.keys(expected).map((k) => [k, pickKeys((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k])]));
}
