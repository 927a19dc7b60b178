// VCenterTrust against a real kube-apiserver and the simulated vCenters: a mesh built from empty
// (the simulator's cross-vCenter SSLVerifyFault check fails before and passes after), drift
// restored at resync, members added and removed, a VMCA renewal, an operator killed between two
// adds, one failing member isolated, and bad extra roots that write nothing. vCenter writes are
// counted from the simulator's audit log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { VCenterTrustResource, type VCenterTrust } from '../../../src/api/index.ts';
import { SecretResource } from '../../../src/controllers/connections/controller.ts';
import { VCenterClient } from '../../../src/clients/vcenter/index.ts';
import { chainIdOf, clusterTagOf, isOperatorChain } from '../../../src/controllers/trust/index.ts';
import { clusterIdentity } from '../../../src/controllers/cluster-identity.ts';
import type { KubeClient, KubeObject, ResourceType } from '../../../src/runtime/index.ts';
import { createCA, createSelfSignedLeaf } from '../../../src/sim/pki.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { isReady, readyOf, startTestOperator, uniqueName, userClient, waitFor, type TestOperator } from '../../harness/operator.ts';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';

const events: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
const CHAIN_WRITE = /trusted-root-chains/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha256 = (pem: string): string => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

interface KubeEvent extends KubeObject {
  reason?: string;
  note?: string;
  regarding?: { name?: string; kind?: string };
}

describe('VCenterTrust controller against kube-apiserver and the vCenter simulator', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let kube: KubeClient;
  let opNs: string;
  let op: TestOperator | undefined;
  /** The tag of this cluster's identity, which the chains the operator adds carry. */
  let tag: string;
  const created: string[] = [];

  async function startOperator(): Promise<TestOperator> {
    op = await startTestOperator({
      operatorNamespace: opNs,
      trustResyncMs: 1500,
      vcenterClientOptions: { retry: { maxAttempts: 2, backoff: { initialDelayMs: 10, maxDelayMs: 50, multiplier: 2, jitter: 0 } }, requestTimeoutMs: 5000 },
    });
    return op;
  }

  before(async function () {
    sim = await startSimulator({ knobs: { latencyMs: 0 } });
    kube = userClient();
    tag = clusterTagOf(await clusterIdentity(kube));
    opNs = await freshNamespace('trust-op');
    for (const v of sim.vcenters) {
      await kube.create(SecretResource, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${v.name}-creds`, namespace: opNs },
        stringData: { username: v.username, password: v.password },
      } as KubeObject);
    }
  });

  beforeEach(function () {
    sim.admin.reset();
    sim.admin.setKnobs({ latencyMs: 0 });
  });

  afterEach(async function () {
    // Deleted while the operator still runs, so its finalizer is let go (the trust stays in the vCenters).
    for (const name of created.splice(0)) {
      await kube.delete(VCenterTrustResource, name).catch(() => undefined);
      if (op) await waitTrust(name, (o) => o === undefined, 10_000);
    }
    await op?.stop();
    op = undefined;
  });

  after(async function () {
    await sim?.stop();
  });

  // --- helpers ------------------------------------------------------------------------------------

  function member(name: string, extra: Record<string, unknown> = {}) {
    const v = sim.vcenters.find((x) => x.name === name) ?? assert.fail(`no simulated vCenter ${name}`);
    return { name, url: v.url, credentialsSecretRef: { name: `${name}-creds` }, caBundle: v.caPem, ...extra };
  }

  async function createTrust(spec: Record<string, unknown>): Promise<string> {
    const name = uniqueName('mesh');
    await kube.create(VCenterTrustResource, { apiVersion: 'vcd-operator.io/v1alpha1', kind: 'VCenterTrust', metadata: { name }, spec } as KubeObject);
    created.push(name);
    return name;
  }

  const waitTrust = (name: string, predicate: (o: VCenterTrust | undefined) => boolean, timeoutMs = 30_000) =>
    waitFor<VCenterTrust>(kube, VCenterTrustResource, undefined, name, predicate, timeoutMs);

  function chainsOf(vc: string): Array<{ chain: string; sha1: string[] }> {
    return (sim.admin.state().vcenters.find((v) => v.name === vc)?.trustedRoots ?? []).map((c) => ({ chain: c.chain, sha1: c.sha1 }));
  }

  /** Every certificate on `vc` is there once, whoever added it. */
  function assertNoDuplicates(vc: string): void {
    const all = chainsOf(vc).flatMap((c) => c.sha1);
    assert.equal(new Set(all).size, all.length, `a root is trusted twice on ${vc}: ${JSON.stringify(chainsOf(vc))}`);
  }

  function meshHolds(names: string[]): boolean {
    return names.every((a) => names.every((b) => a === b || sim.admin.vcenterTrust(a, b).trusted));
  }

  const chainWrites = (since = 0) => sim.admin.audit(since).filter((e) => e.service === 'vcenter' && CHAIN_WRITE.test(e.path));
  const lastSeq = () => sim.admin.audit().at(-1)?.seq ?? 0;

  /** What an admin does in the vSphere Client: add or remove a trusted root on one vCenter. */
  async function asAdmin<T>(vc: string, fn: (c: VCenterClient) => Promise<T>): Promise<T> {
    const v = sim.vcenters.find((x) => x.name === vc) ?? assert.fail(`no simulated vCenter ${vc}`);
    const client = await VCenterClient.connect({ url: v.url, username: v.username, password: v.password, caPem: v.caPem });
    try {
      return await fn(client);
    } finally {
      await client.close();
    }
  }

  async function eventsFor(name: string): Promise<KubeEvent[]> {
    const list = await kube.list<KubeEvent>(events, { namespace: 'default' });
    return list.items.filter((e) => e.regarding?.name === name);
  }

  // --- tests --------------------------------------------------------------------------------------

  it('builds a three-vCenter mesh from empty: SSLVerifyFault between members before, every pair trusted after, 6 adds', async function () {
    const names = ['vc-a', 'vc-b', 'vc-c'];
    const check = sim.admin.vcenterTrust('vc-a', 'vc-b');
    assert.equal(check.trusted, false);
    assert.equal(check.trusted ? '' : check.fault, 'SSLVerifyFault');
    await startOperator();
    const since = lastSeq();
    const name = await createTrust({ members: names.map((n) => member(n)) });
    const ready = await waitTrust(name, isReady);
    assert.equal(readyOf(ready)?.reason, 'MeshComplete');
    assert.equal(ready?.status?.pairs, '6/6');
    assert.ok(meshHolds(names), 'every ordered pair passes the cross-vCenter check');
    const writes = chainWrites(since);
    assert.equal(writes.length, 6, `one add per ordered pair: ${JSON.stringify(writes.map((w) => `${w.instance} ${w.method}`))}`);
    assert.ok(writes.every((w) => w.method === 'POST' && w.status < 300));
    for (const vc of names) {
      assertNoDuplicates(vc);
      const ours = chainsOf(vc).filter((c) => isOperatorChain(c.chain));
      assert.equal(ours.length, 2, `${vc} holds its two peers' roots under operator ids`);
    }
    const a = ready?.status?.members?.find((m) => m.name === 'vc-a');
    assert.deepEqual(a?.trusts, ['vc-b', 'vc-c']);
    assert.deepEqual(a?.missing, []);
    assert.equal(a?.ownRoots?.[0]?.serving, true);
    assert.equal(a?.ownRoots?.[0]?.sha256.replaceAll(':', '').toLowerCase(), sha256(sim.vcenters[0]?.caPem ?? ''));

    // At rest: resyncs read, never write.
    const rest = lastSeq();
    await sleep(4000);
    assert.deepEqual(chainWrites(rest), [], 'no vCenter writes at rest');
  });

  it('restores a root deleted by hand at the next resync, and says so in an Event', async function () {
    await startOperator();
    const name = await createTrust({ members: [member('vc-a'), member('vc-b')] });
    await waitTrust(name, isReady);
    const bRoot = sha256(sim.vcenters[1]?.caPem ?? '');
    // An admin removes vc-b's root from vc-a.
    assert.equal(await asAdmin('vc-a', (c) => c.trustedRootChains.delete(chainIdOf(tag, bRoot))), true);
    assert.equal(sim.admin.vcenterTrust('vc-a', 'vc-b').trusted, false);
    const deadline = Date.now() + 15_000;
    while (!sim.admin.vcenterTrust('vc-a', 'vc-b').trusted) {
      assert.ok(Date.now() < deadline, 'the root came back within a few resyncs');
      await sleep(200);
    }
    assertNoDuplicates('vc-a');
    await waitTrust(name, isReady);
    const restored = (await eventsFor(name)).find((e) => e.reason === 'RootRestored');
    assert.match(restored?.note ?? '', /vc-a no longer held vc-b's root/);
  });

  it('extends the mesh both ways when a member joins, and prunes only what it added for a member that leaves', async function () {
    await startOperator();
    const name = await createTrust({ members: [member('vc-a'), member('vc-b')], prune: true });
    await waitTrust(name, (o) => isReady(o) && o?.status?.pairs === '2/2');
    assert.equal(sim.admin.vcenterTrust('vc-c', 'vc-a').trusted, false);
    // An admin had trusted an enterprise root on vc-a by hand: not ours, never pruned.
    const enterprise = await createCA('Enterprise Root', { organization: 'example' });
    await asAdmin('vc-a', (c) => c.trustedRootChains.create([enterprise.certPem]));
    // The operator of another cluster meshes vc-a too and added a root no member here wants: not ours either.
    const elsewhere = await createCA('Other Cluster Peer Root', { organization: 'example' });
    const theirChain = chainIdOf(clusterTagOf('kube-system uid of another cluster'), sha256(elsewhere.certPem));
    await asAdmin('vc-a', (c) => c.trustedRootChains.create([elsewhere.certPem], theirChain));

    const cur = await kube.get<VCenterTrust>(VCenterTrustResource, name);
    await kube.patch(VCenterTrustResource, name, undefined, { spec: { members: [...cur.spec.members, member('vc-c')] } });
    await waitTrust(name, (o) => isReady(o) && o?.status?.pairs === '6/6');
    assert.ok(meshHolds(['vc-a', 'vc-b', 'vc-c']));

    // vc-b leaves; with prune on its root goes from vc-a and vc-c, and nothing else does.
    const bRoot = sha256(sim.vcenters[1]?.caPem ?? '');
    const foreignBefore = chainsOf('vc-a').filter((c) => !isOperatorChain(c.chain));
    assert.equal(foreignBefore.length, 2, "vc-a's own VMCA root and the enterprise root an admin added");
    const since = lastSeq();
    const now = await kube.get<VCenterTrust>(VCenterTrustResource, name);
    await kube.patch(VCenterTrustResource, name, undefined, { spec: { members: now.spec.members.filter((m) => m.name !== 'vc-b') } });
    await waitTrust(name, (o) => isReady(o) && o?.status?.pairs === '2/2' && o.status.conditions?.find((c) => c.type === 'Synced')?.status === 'True');
    const deadline = Date.now() + 10_000;
    while (chainsOf('vc-a').some((c) => c.chain === chainIdOf(tag, bRoot)) || chainsOf('vc-c').some((c) => c.chain === chainIdOf(tag, bRoot))) {
      assert.ok(Date.now() < deadline, 'vc-b root pruned from the remaining members');
      await sleep(200);
    }
    const writes = chainWrites(since);
    assert.deepEqual(writes.map((w) => `${w.method} ${w.instance}`).sort(), ['DELETE vc-a', 'DELETE vc-c']);
    assert.deepEqual(
      chainsOf('vc-a').filter((c) => !isOperatorChain(c.chain)),
      foreignBefore,
      'roots the operator did not add are untouched',
    );
    assert.ok(
      chainsOf('vc-a').some((c) => c.chain === theirChain),
      "the chain another cluster's operator added stays",
    );
    assert.ok(meshHolds(['vc-a', 'vc-c']));
  });

  it('carries a VMCA renewal: the new root reaches every peer before the switch, the old one goes only once retired', async function () {
    await startOperator();
    const names = ['vc-a', 'vc-b', 'vc-c'];
    const name = await createTrust({ members: names.map((n) => member(n)), prune: true });
    await waitTrust(name, isReady);
    const oldRoot = sha256(sim.vcenters[1]?.caPem ?? '');

    // Step 1: vc-b's VMCA renews; it still serves the certificate of the old root.
    const newPem = await sim.admin.rotateVmca('vc-b', 'renew');
    const newRoot = sha256(newPem);
    // The admin adds the new root to vc-b's CA bundle, as the switch will need it.
    const cur = await kube.get<VCenterTrust>(VCenterTrustResource, name);
    await kube.patch(VCenterTrustResource, name, undefined, {
      spec: { members: cur.spec.members.map((m) => (m.name === 'vc-b' ? { ...m, caBundle: sim.vcenters[1]?.caPem } : m)) },
    });
    const spread = await waitTrust(name, (o) => isReady(o) && (o?.status?.members?.find((m) => m.name === 'vc-b')?.ownRoots?.length ?? 0) === 2);
    const bStatus = spread?.status?.members?.find((m) => m.name === 'vc-b');
    assert.deepEqual(
      bStatus?.ownRoots?.map((r) => r.serving),
      [true, false],
    );
    for (const vc of ['vc-a', 'vc-c']) {
      const ids = chainsOf(vc).map((c) => c.chain);
      assert.ok(ids.includes(chainIdOf(tag, newRoot)) && ids.includes(chainIdOf(tag, oldRoot)), `${vc} holds both of vc-b's roots`);
    }

    // Step 2: vc-b serves a certificate from the new root: every peer already trusts it.
    await sim.admin.rotateVmca('vc-b', 'switch');
    assert.ok(meshHolds(names), 'no SSLVerifyFault at any moment after the switch');
    await sleep(2500);
    for (const vc of ['vc-a', 'vc-c'])
      assert.ok(
        chainsOf(vc).some((c) => c.chain === chainIdOf(tag, oldRoot)),
        `the old root stays on ${vc} while vc-b still holds it`,
      );

    // Step 3: vc-b retires the old root; with prune on, it leaves the peers.
    await sim.admin.rotateVmca('vc-b', 'retire');
    const deadline = Date.now() + 15_000;
    while (['vc-a', 'vc-c'].some((vc) => chainsOf(vc).some((c) => c.chain === chainIdOf(tag, oldRoot)))) {
      assert.ok(Date.now() < deadline, 'the retired root is pruned from the peers');
      await sleep(200);
    }
    assert.ok(meshHolds(names));
    const done = await waitTrust(name, (o) => isReady(o) && o?.status?.members?.find((m) => m.name === 'vc-b')?.ownRoots?.length === 1);
    assert.equal(done?.status?.pairs, '6/6');
    for (const vc of names) assertNoDuplicates(vc);
  });

  it('converges without duplicates after the operator is killed between two adds', async function () {
    sim.admin.setKnobs({ latencyMs: 150 });
    const names = ['vc-a', 'vc-b', 'vc-c'];
    const name = await createTrust({ members: names.map((n) => member(n)) });
    const since = lastSeq();
    const child = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${controlPlane().kubeconfigPath}`,
        `--operator-namespace=${opNs}`,
        '--leader-elect=false',
        '--probe-port=0',
        '--log-level=warn',
      ],
      {
        stdio: 'ignore',
      },
    );
    try {
      const deadline = Date.now() + 30_000;
      while (!chainWrites(since).some((w) => w.method === 'POST' && w.status < 300)) {
        assert.ok(Date.now() < deadline, 'the operator started adding');
        await sleep(20);
      }
    } finally {
      child.kill('SIGKILL');
    }
    const partial = chainWrites(since).filter((w) => w.method === 'POST').length;
    assert.ok(partial >= 1 && partial < 6, `killed part-way (${partial} adds landed)`);
    assert.equal(meshHolds(names), false);

    sim.admin.setKnobs({ latencyMs: 0 });
    await startOperator();
    await waitTrust(name, isReady);
    assert.ok(meshHolds(names));
    for (const vc of names) assertNoDuplicates(vc);
    const posts = chainWrites(since).filter((w) => w.method === 'POST' && w.status < 300);
    assert.ok(posts.length <= 6 + 2, `no root added twice (${posts.length} successful adds for 6 pairs; a kill may lose at most the answers in flight)`);
    for (const vc of names) assert.equal(chainsOf(vc).filter((c) => isOperatorChain(c.chain)).length, 2);
  });

  it('isolates a member with wrong credentials: Ready=False naming it, the pairs among the others converge, fixed by a new Secret', async function () {
    await kube.create(SecretResource, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'vc-c-wrong', namespace: opNs },
      stringData: { username: 'administrator@vsphere.local', password: 'not-it' },
    } as KubeObject);
    await startOperator();
    const name = await createTrust({ members: [member('vc-a'), member('vc-b'), member('vc-c', { credentialsSecretRef: { name: 'vc-c-wrong' } })] });
    const failed = await waitTrust(
      name,
      (o) => readyOf(o)?.reason === 'CredentialsInvalid' && o?.status?.members?.find((m) => m.name === 'vc-a')?.trusts?.includes('vc-b') === true,
    );
    assert.equal(readyOf(failed)?.status, 'False');
    assert.match(readyOf(failed)?.message ?? '', /vc-c refused the login/);
    assert.match(readyOf(failed)?.message ?? '', /2\/2 of the pairs not involving vc-c hold/);
    assert.ok(sim.admin.vcenterTrust('vc-a', 'vc-b').trusted && sim.admin.vcenterTrust('vc-b', 'vc-a').trusted);
    assert.equal(chainsOf('vc-c').length, 1, 'nothing written to vc-c');
    assert.equal(failed?.status?.pairs, '2/6');

    const right = sim.vcenters[2];
    assert.ok(right);
    await kube.patch(SecretResource, 'vc-c-wrong', opNs, { stringData: { password: right.password } });
    await waitTrust(name, (o) => isReady(o) && o?.status?.pairs === '6/6');
    assert.ok(meshHolds(['vc-a', 'vc-b', 'vc-c']));
  });

  it('names an unreachable member and one whose account may not add roots, while the other pairs converge', async function () {
    // vc-c's account may log in and read, but adding a root is refused (403), as without CertificateManagement privileges.
    sim.admin.addFault({
      route: 'POST /api/vcenter/certificate-management/vcenter/trusted-root-chains',
      service: 'vcenter',
      instance: 'vc-c',
      kind: 'status',
      status: 403,
    });
    await startOperator();
    const gone = { name: 'vc-gone', url: 'https://127.0.0.1:1', credentialsSecretRef: { name: 'vc-a-creds' }, caBundle: sim.vcenters[0]?.caPem };
    const name = await createTrust({ members: [member('vc-a'), member('vc-b'), member('vc-c'), gone] });
    const failed = await waitTrust(
      name,
      (o) => readyOf(o)?.status === 'False' && (o?.status?.members?.find((m) => m.name === 'vc-a')?.trusts ?? []).includes('vc-b'),
    );
    const byName = new Map((failed?.status?.members ?? []).map((m) => [m.name, m]));
    assert.match(byName.get('vc-gone')?.problem ?? '', /^Unreachable: vc-gone is unreachable/);
    assert.match(byName.get('vc-c')?.problem ?? '', /^NotAuthorized: vc-c refused/);
    assert.match(readyOf(failed)?.message ?? '', /vc-gone is unreachable/);
    assert.match(readyOf(failed)?.message ?? '', /of the pairs not involving vc-gone, vc-c hold/);
    // vc-a and vc-b trust each other and vc-c (whose root they could read); vc-c trusts nobody yet.
    for (const [a, b] of [
      ['vc-a', 'vc-b'],
      ['vc-b', 'vc-a'],
      ['vc-a', 'vc-c'],
      ['vc-b', 'vc-c'],
    ] as const)
      assert.ok(sim.admin.vcenterTrust(a, b).trusted, `${a} trusts ${b}`);
    assert.equal(sim.admin.vcenterTrust('vc-c', 'vc-a').trusted, false);
  });

  it('reports a CA bundle that does not match a member and writes nothing to it', async function () {
    await startOperator();
    const since = lastSeq();
    const name = await createTrust({ members: [member('vc-a'), member('vc-b', { caBundle: sim.vcenters[0]?.caPem })] });
    const failed = await waitTrust(name, (o) => readyOf(o)?.reason === 'CABundleMismatch');
    assert.match(readyOf(failed)?.message ?? '', /vc-b's TLS certificate does not verify against its caBundle/);
    assert.deepEqual(
      chainWrites(since).filter((w) => w.instance === 'vc-b'),
      [],
    );
  });

  it('refuses a non-CA or malformed extra root before any write', async function () {
    await startOperator();
    const since = lastSeq();
    const leaf = await createSelfSignedLeaf('not-a-ca.example.com');
    const name = await createTrust({ members: [member('vc-a'), member('vc-b')], extraRoots: leaf.certPem });
    const failed = await waitTrust(name, (o) => readyOf(o)?.reason === 'InvalidSpec');
    assert.match(readyOf(failed)?.message ?? '', /certificate #1 \(CN=not-a-ca\.example\.com\) is not a CA certificate/);
    const broken = await createTrust({
      members: [member('vc-a'), member('vc-b')],
      extraRoots: '-----BEGIN CERTIFICATE-----\nMIIBbroken\n-----END CERTIFICATE-----\n',
    });
    const failed2 = await waitTrust(broken, (o) => readyOf(o)?.reason === 'InvalidSpec');
    assert.match(readyOf(failed2)?.message ?? '', /certificate #1 is not a well-formed certificate/);
    await sleep(500);
    assert.deepEqual(chainWrites(since), [], 'nothing written to any vCenter');
  });

  it('adds a valid extra root to every member, and speaks /rest to a vCenter without /api', async function () {
    // vc-c answers 404 on /api/session, as a vCenter older than 7.0 U2 does.
    sim.admin.addFault({ route: 'POST /api/session', service: 'vcenter', instance: 'vc-c', kind: 'status', status: 404 });
    await startOperator();
    const enterprise = await createCA('Enterprise Root', { organization: 'example' });
    const name = await createTrust({ members: ['vc-a', 'vc-b', 'vc-c'].map((n) => member(n)), extraRoots: enterprise.certPem });
    const ready = await waitTrust(name, isReady);
    assert.match(readyOf(ready)?.message ?? '', /and 1 extra root/);
    assert.equal(ready?.status?.members?.find((m) => m.name === 'vc-c')?.apiFamily, 'rest');
    assert.equal(ready?.status?.members?.find((m) => m.name === 'vc-a')?.apiFamily, 'api');
    const extraId = chainIdOf(tag, sha256(enterprise.certPem));
    for (const vc of ['vc-a', 'vc-b', 'vc-c'])
      assert.ok(
        chainsOf(vc).some((c) => c.chain === extraId),
        `${vc} trusts the extra root`,
      );
    assert.ok(sim.admin.audit().some((e) => e.instance === 'vc-c' && e.path.startsWith('/rest/vcenter/certificate-management/vcenter/trusted-root-chains')));
  });
});
