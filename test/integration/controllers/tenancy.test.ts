// Who may use which connection: a claim pointing at a connection it may not use gets Ready=False
// and nothing happens in VCD.
import assert from 'node:assert/strict';
import { NamespaceResource } from '../../../src/controllers/connections/controller.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createProviderConnection,
  createTenantConnection,
  floatingIPClaim,
  hasReason,
  isReady,
  readyOf,
  resources,
  startTestOperator,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

describe('connection tenancy', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let opNs: string;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    opNs = await freshNamespace('op');
    kube = userClient();
    op = await startTestOperator({ operatorNamespace: opNs, taskTimeoutMs: 5000 });
  });
  after(async function () {
    await op?.stop();
    await sim?.stop();
  });

  const vcdWrites = () => sim.admin.audit().filter((e) => e.service === 'vcd' && !e.path.includes('/sessions') && !e.path.includes('/oauth/')).length;

  it('a VCDConnection serves only its own namespace', async function () {
    const owner = await freshNamespace('owner');
    const other = await freshNamespace('other');
    await createTenantConnection(kube, sim, owner, { org: 'acme' });
    await waitFor(kube, resources.conn, owner, 'acme-conn', isReady);
    const writes = vcdWrites();
    await kube.create(resources.fip, floatingIPClaim(other, 'borrow', { connection: 'acme-conn' }));
    const denied = await waitFor(kube, resources.fip, other, 'borrow', hasReason('ConnectionNotFound'));
    assert.equal(readyOf(denied)?.status, 'False');
    assert.match(readyOf(denied)?.message ?? '', new RegExp(`namespace ${other}`));
    assert.equal(vcdWrites(), writes, 'nothing was written to VCD');
    await kube.delete(resources.fip, 'borrow', other);
    await waitFor(kube, resources.fip, other, 'borrow', (o) => o === undefined);
  });

  it('a ClusterVCDConnection serves only namespaces its selector allows, and a label change takes effect', async function () {
    const team = await freshNamespace('team');
    const provider = await createProviderConnection(kube, sim, opNs, { allowedNamespaces: { matchLabels: { 'vcd-operator.io/tenant': 'acme' } } });
    await waitFor(kube, resources.cconn, undefined, provider, isReady);
    const writes = vcdWrites();
    const claim = floatingIPClaim(team, 'via-provider', {});
    (claim as { spec: Record<string, unknown> }).spec.connectionRef = { kind: 'ClusterVCDConnection', name: provider };
    (claim as { spec: Record<string, unknown> }).spec.org = { name: 'acme' };
    await kube.create(resources.fip, claim);
    const denied = await waitFor(kube, resources.fip, team, 'via-provider', hasReason('ConnectionNotAllowed'));
    assert.match(readyOf(denied)?.message ?? '', /allowedNamespaces/);
    assert.equal(vcdWrites(), writes, 'nothing was written to VCD');

    await kube.patch(NamespaceResource, team, undefined, { metadata: { labels: { 'vcd-operator.io/tenant': 'acme' } } });
    const ready = await waitFor<KubeObject & { status?: { address?: string; org?: string } }>(kube, resources.fip, team, 'via-provider', isReady, 60_000);
    assert.equal(ready?.status?.org, 'acme');
    const held = sim.admin
      .state()
      .vcd.ipSpaces.find((s) => s.name === 'public-ips')
      ?.allocations.find((a) => a.value === ready?.status?.address);
    assert.equal(held?.org, 'acme', 'the provider allocated on behalf of acme');
    await kube.delete(resources.fip, 'via-provider', team);
    await waitFor(kube, resources.fip, team, 'via-provider', (o) => o === undefined);

    // The org may be named by id too; the tenant context still gets its name.
    const globexId = sim.admin.state().vcd.orgs.find((o) => o.name === 'globex')?.id;
    const byId = floatingIPClaim(team, 'by-org-id', {});
    (byId as { spec: Record<string, unknown> }).spec.connectionRef = { kind: 'ClusterVCDConnection', name: provider };
    (byId as { spec: Record<string, unknown> }).spec.org = { id: globexId };
    await kube.create(resources.fip, byId);
    const viaId = await waitFor<KubeObject & { status?: { address?: string; org?: string } }>(kube, resources.fip, team, 'by-org-id', isReady, 60_000);
    assert.equal(viaId?.status?.org, 'globex');
    assert.equal(
      sim.admin
        .state()
        .vcd.ipSpaces.find((s) => s.name === 'public-ips')
        ?.allocations.find((a) => a.value === viaId?.status?.address)?.org,
      'globex',
    );
    await kube.delete(resources.fip, 'by-org-id', team);
    await waitFor(kube, resources.fip, team, 'by-org-id', (o) => o === undefined);
  });

  it('a namespace bound to one org cannot claim for another through a provider connection: refused, zero VCD writes', async function () {
    const team = await freshNamespace('bound');
    const provider = await createProviderConnection(kube, sim, opNs, {
      allowedNamespaces: {},
      tenants: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': team } }, orgs: ['acme'] }],
    });
    await waitFor(kube, resources.cconn, undefined, provider, isReady);
    const viaProvider = (name: string, org: { name?: string; id?: string }): KubeObject => {
      const claim = floatingIPClaim(team, name, {});
      (claim as { spec: Record<string, unknown> }).spec.connectionRef = { kind: 'ClusterVCDConnection', name: provider };
      (claim as { spec: Record<string, unknown> }).spec.org = org;
      return claim;
    };
    const writes = vcdWrites();
    await kube.create(resources.fip, viaProvider('for-globex', { name: 'globex' }));
    const globexId = sim.admin.state().vcd.orgs.find((o) => o.name === 'globex')?.id;
    await kube.create(resources.fip, viaProvider('for-globex-by-id', { id: globexId }));
    const denied = await waitFor(kube, resources.fip, team, 'for-globex', hasReason('OrgNotAllowed'));
    assert.match(readyOf(denied)?.message ?? '', /not to org globex/);
    await waitFor(kube, resources.fip, team, 'for-globex-by-id', hasReason('OrgNotAllowed'));
    assert.equal(vcdWrites(), writes, 'nothing was written to VCD for another org');

    await kube.create(resources.fip, viaProvider('for-acme', { name: 'acme' }));
    const ready = await waitFor<KubeObject & { status?: { org?: string } }>(kube, resources.fip, team, 'for-acme', isReady, 60_000);
    assert.equal(ready?.status?.org, 'acme');
    for (const n of ['for-globex', 'for-globex-by-id', 'for-acme']) await kube.delete(resources.fip, n, team);
    for (const n of ['for-globex', 'for-globex-by-id', 'for-acme']) await waitFor(kube, resources.fip, team, n, (o) => o === undefined);
  });

  it('a ClusterVCDConnection reads its Secret only from the operator namespace', async function () {
    const elsewhere = await freshNamespace('elsewhere');
    // The Secret the connection names exists, but in the wrong namespace.
    await kube.create(
      { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'misplaced-creds', namespace: elsewhere },
        stringData: { apiToken: sim.credentials.provider.apiToken },
      },
    );
    await kube.create(resources.cconn, {
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'ClusterVCDConnection',
      metadata: { name: 'misplaced' },
      spec: { url: sim.vcd.url, org: 'System', credentialsSecretRef: { name: 'misplaced-creds' }, caBundle: sim.caPem },
    });
    const notReady = await waitFor(kube, resources.cconn, undefined, 'misplaced', hasReason('SecretNotFound'));
    assert.match(readyOf(notReady)?.message ?? '', new RegExp(`${opNs}/misplaced-creds`));
  });
});
