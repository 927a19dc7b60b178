// The generated CRDs on a real kube-apiserver: the shared table of bad specs is refused at
// admission (422) with the messages we wrote, valid specs are admitted, and what users read
// (kubectl explain, printer columns, short names, the vcd category) is served.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, kinds, type KindDefinition } from '../../../src/api/index.ts';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';
import { accepted, apiserverMessage, clean, operatorOnly, rejected, type KindName } from '../../unit/api/cases.ts';

const run = promisify(execFile);

function defOf(kind: KindName): KindDefinition {
  const d = kinds.find((k) => k.kind === kind);
  if (!d) throw new Error(`no kind ${kind}`);
  return d;
}

interface Stored {
  metadata: { name: string; resourceVersion?: string };
  spec: Record<string, unknown>;
}

interface ApiError {
  code?: number;
  body?: unknown;
}

/** The Status message of a refused request. */
function statusMessage(err: ApiError): string {
  const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string } | undefined);
  return body?.message ?? String(err.body);
}

describe('admission of vcd-operator.io objects', function () {
  let api: CustomObjectsApi;
  let ns: string;
  const clusterNames: string[] = [];

  before(async function () {
    api = controlPlane().kubeConfig().makeApiClient(CustomObjectsApi);
    ns = await freshNamespace('adm');
  });

  after(async function () {
    for (const name of clusterNames) {
      await api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural: 'clustervcdconnections', name }).catch(() => undefined);
    }
  });

  const uniqueName = () => `obj-${randomBytes(4).toString('hex')}`;

  async function create(kind: KindName, spec: Record<string, unknown>): Promise<Stored> {
    const def = defOf(kind);
    const name = uniqueName();
    const body = { apiVersion: API_VERSION, kind, metadata: { name }, spec: clean(spec) };
    if (def.namespaced) {
      return (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: def.plural, body })) as Stored;
    }
    clusterNames.push(name);
    return (await api.createClusterCustomObject({ group: GROUP, version: VERSION, plural: def.plural, body })) as Stored;
  }

  async function replace(kind: KindName, stored: Stored, spec: Record<string, unknown>): Promise<Stored> {
    const def = defOf(kind);
    const name = stored.metadata.name;
    const ref = { group: GROUP, version: VERSION, plural: def.plural, name };
    let current = stored;
    // A conflict only means someone else wrote the object in between; the answer we test is 422.
    for (let attempt = 0; ; attempt++) {
      const body = { apiVersion: API_VERSION, kind, metadata: { name, resourceVersion: current.metadata.resourceVersion }, spec: clean(spec) };
      try {
        if (def.namespaced) return (await api.replaceNamespacedCustomObject({ ...ref, namespace: ns, body })) as Stored;
        return (await api.replaceClusterCustomObject({ ...ref, body })) as Stored;
      } catch (err) {
        if ((err as ApiError).code !== 409 || attempt >= 3) throw err;
        current = (def.namespaced ? await api.getNamespacedCustomObject({ ...ref, namespace: ns }) : await api.getClusterCustomObject(ref)) as Stored;
      }
    }
  }

  /** Creates (or, for update cases, creates `from` and then replaces it with) the case's spec. */
  async function submit(c: { kind: KindName; spec: Record<string, unknown>; from?: Record<string, unknown> }): Promise<Stored> {
    if (!c.from) return create(c.kind, c.spec);
    return replace(c.kind, await create(c.kind, c.from), c.spec);
  }

  describe('refuses bad specs with a 422 and our message', function () {
    for (const c of rejected) {
      it(`${c.kind}: ${c.name}`, async function () {
        await assert.rejects(submit(c), (err: ApiError) => {
          assert.equal(err.code, 422, `expected 422, got ${err.code}: ${statusMessage(err)}`);
          const message = statusMessage(err);
          assert.ok(message.includes(apiserverMessage(c.message)), `apiserver said: ${message}`);
          return true;
        });
      });
    }
  });

  describe('admits valid specs', function () {
    for (const c of accepted) {
      it(`${c.kind}: ${c.name}`, async function () {
        const stored = await submit(c);
        assert.equal(stored.metadata.name.startsWith('obj-'), true);
      });
    }
  });

  describe('admits what only the operator can refuse (then reported as InvalidSpec)', function () {
    for (const c of operatorOnly) {
      it(`${c.kind}: ${c.name}`, async function () {
        await submit(c);
      });
    }
  });

  it('defaults reclaimPolicy to Delete', async function () {
    const stored = await create('FloatingIPClaim', { connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: 'public-ips' } });
    assert.equal(stored.spec.reclaimPolicy, 'Delete');
  });

  describe('what users read', function () {
    const kubectl = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(controlPlane().assets.kubectl, ['--kubeconfig', controlPlane().kubeconfigPath, ...args]);
      return stdout;
    };

    it('discovery lists every kind with its short names and the vcd category', async function () {
      const list = await api.getAPIResources({ group: GROUP, version: VERSION });
      const byKind = new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, r]));
      for (const def of kinds) {
        const r = byKind.get(def.kind);
        assert.ok(r, `${def.kind} is not served`);
        assert.deepEqual(r.shortNames, [...def.shortNames]);
        assert.deepEqual(r.categories, ['vcd']);
        assert.equal(r.namespaced, def.namespaced);
      }
      assert.ok(
        list.resources.some((r) => r.name === 'floatingipclaims/status'),
        'status subresource is served',
      );
    });

    it('kubectl explain teaches the fields', async function () {
      const out = await kubectl('explain', 'floatingipclaims.spec.ipSpace');
      assert.match(out, /The VCD IP Space to allocate from, by its name in VCD or its id/);
      assert.match(out, /name\s+<string>/);
      const ips = await kubectl('explain', 'ipspace.spec.type');
      assert.match(ips, /Only SharedServices may later change to Public/);
      const conn = await kubectl('explain', 'clustervcdconnection.spec.allowedNamespaces');
      assert.match(conn, /The operator's own namespace may always use it/);
    });

    it('kubectl get shows the printer columns, -o wide the details, and `get vcd` every kind', async function () {
      const name = uniqueName();
      await api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'floatingipclaims',
        body: {
          apiVersion: API_VERSION,
          kind: 'FloatingIPClaim',
          metadata: { name },
          spec: { connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: 'public-ips' } },
        },
      });
      await api.patchNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: 'floatingipclaims',
        name,
        body: [
          {
            op: 'add',
            path: '/status',
            value: {
              observedGeneration: 1,
              conditions: [
                {
                  type: 'Ready',
                  status: 'True',
                  reason: 'Allocated',
                  message: 'Allocated 203.0.113.10',
                  lastTransitionTime: new Date().toISOString(),
                  observedGeneration: 1,
                },
              ],
              address: '203.0.113.10',
              ipSpaceName: 'public-ips',
              allocationId: 'urn:vcloud:ipSpaceIpAllocation:1',
              org: 'acme',
            },
          },
        ],
      });
      const short = await kubectl('get', 'fip', name, '-n', ns);
      const [header, row] = short.trim().split('\n');
      assert.deepEqual(header?.split(/\s{2,}/), ['NAME', 'READY', 'ADDRESS', 'IP SPACE', 'AGE']);
      assert.match(row ?? '', new RegExp(`^${name}\\s+True\\s+203\\.0\\.113\\.10\\s+public-ips\\s+`));
      const wide = await kubectl('get', 'fip', name, '-n', ns, '-o', 'wide');
      assert.deepEqual(
        wide
          .trim()
          .split('\n')[0]
          ?.split(/\s{2,}/),
        ['NAME', 'READY', 'ADDRESS', 'IP SPACE', 'ORG', 'ALLOCATION', 'REASON', 'MESSAGE', 'AGE'],
      );
      assert.match(wide, /Allocated\s+Allocated 203\.0\.113\.10/);
      const conn = await create('VCDConnection', { url: 'https://vcd.example.com', org: 'acme', credentialsSecretRef: { name: 'acme' } });
      const all = await kubectl('get', 'vcd', '-n', ns);
      assert.match(all, new RegExp(`floatingipclaim\\.vcd-operator\\.io/${name}`));
      assert.match(all, new RegExp(`vcdconnection\\.vcd-operator\\.io/${conn.metadata.name}`));
    });
  });
});
