// Proof that the integration tier talks to a real kube-apiserver: structural schema, status
// subresource, CEL admission and watches all behave as the server implements them.
import assert from 'node:assert/strict';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { controlPlane, freshNamespace } from '../harness/shared.ts';

const group = 'harness.vcd-operator.io';
const plural = 'widgets';

// Wire form, as a CRD YAML file holds it.
const widgetCRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
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
              spec: {
                type: 'object',
                properties: { min: { type: 'integer' }, max: { type: 'integer' } },
                'x-kubernetes-validations': [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }],
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

interface Widget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string };
  spec: { min: number; max: number };
  status?: { phase?: string };
}

describe('test control plane', function () {
  let ns: string;
  let api: CustomObjectsApi;

  before(async function () {
    await controlPlane().installCRDs([structuredClone(widgetCRD)]);
    api = controlPlane().kubeConfig().makeApiClient(CustomObjectsApi);
  });
  beforeEach(async function () {
    ns = await freshNamespace('cp');
  });

  it('is a real, version-stamped kube-apiserver', function () {
    assert.match(controlPlane().version, /^v1\.\d+\.\d+$/);
  });

  it('creates, watches and updates a custom object, status through its subresource', async function () {
    const kc = controlPlane().kubeConfig();
    const seen: { type: string; obj: Widget }[] = [];
    let watchError: unknown;
    // List first, then watch from the list's resourceVersion, as an informer does.
    const list = (await api.listNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural })) as {
      metadata: { resourceVersion: string };
    };
    const watch = new Watch(kc);
    const req = await watch.watch(
      `/apis/${group}/v1/namespaces/${ns}/${plural}`,
      { resourceVersion: list.metadata.resourceVersion },
      (type: string, obj: Widget) => seen.push({ type, obj }),
      (err: unknown) => (watchError = err ?? watchError),
    );
    try {
      const created = (await api.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: ns,
        plural,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { min: 1, max: 3 } },
      })) as Widget;
      assert.equal(created.metadata.generation, 1);

      // A status write goes through /status and leaves the generation alone.
      const withStatus = (await api.patchNamespacedCustomObjectStatus(
        { group, version: 'v1', namespace: ns, plural, name: 'w1', body: { status: { phase: 'Ready' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as Widget;
      assert.equal(withStatus.status?.phase, 'Ready');
      assert.equal(withStatus.metadata.generation, 1);

      // A spec change bumps the generation; status written to the main resource is ignored.
      const updated = (await api.patchNamespacedCustomObject(
        { group, version: 'v1', namespace: ns, plural, name: 'w1', body: { spec: { max: 5 }, status: { phase: 'Ignored' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as Widget;
      assert.equal(updated.metadata.generation, 2);
      assert.equal(updated.spec.max, 5);
      assert.equal(updated.status?.phase, 'Ready');

      const deadline = Date.now() + 10_000;
      while (seen.filter((e) => e.type === 'MODIFIED').length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(watchError, undefined);
      assert.deepEqual(
        seen.map((e) => e.type),
        ['ADDED', 'MODIFIED', 'MODIFIED'],
      );
      assert.equal(seen.at(-1)?.obj.spec.max, 5);
    } finally {
      req.abort();
    }
  });

  it('rejects an object that breaks the CEL rule, at admission', async function () {
    await assert.rejects(
      api.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace: ns,
        plural,
        body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'bad' }, spec: { min: 4, max: 3 } },
      }),
      (err: { code?: number; body?: unknown }) => {
        assert.equal(err.code, 422);
        assert.match(String(err.body), /min must not exceed max/);
        return true;
      },
    );
    // And an update that would break it is refused too, leaving the stored object unchanged.
    await api.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: ns,
      plural,
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'ok' }, spec: { min: 1, max: 2 } },
    });
    await assert.rejects(
      api.patchNamespacedCustomObject(
        { group, version: 'v1', namespace: ns, plural, name: 'ok', body: { spec: { min: 9 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
      (err: { code?: number }) => err.code === 422,
    );
    const stored = (await api.getNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural, name: 'ok' })) as Widget;
    assert.equal(stored.spec.min, 1);
  });
});
