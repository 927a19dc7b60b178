// An operator that watches one tenant namespace (--namespace) still reads the Secrets of its own
// namespace: a ClusterVCDConnection's credentials live there whatever namespace is watched.
import assert from 'node:assert/strict';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createProviderConnection,
  floatingIPClaim,
  isReady,
  readyOf,
  resources,
  startTestOperator,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

describe('--namespace: one watched tenant namespace', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator | undefined;
  let kube: KubeClient;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    kube = userClient();
  });
  after(async function () {
    await op?.stop();
    await sim?.stop();
  });

  it('serves a ClusterVCDConnection whose Secret is in the operator namespace, and a claim through it', async function () {
    const opNs = await freshNamespace('op');
    const team = await freshNamespace('watched');
    op = await startTestOperator({ operatorNamespace: opNs, watchNamespace: team, taskTimeoutMs: 5000 });
    const provider = await createProviderConnection(kube, sim, opNs, { allowedNamespaces: { matchLabels: { 'kubernetes.io/metadata.name': team } } });
    const conn = await waitFor(kube, resources.cconn, undefined, provider, isReady, 30_000);
    assert.equal(readyOf(conn)?.reason, 'LoggedIn');

    const claim = floatingIPClaim(team, 'via-provider', {});
    (claim as { spec: Record<string, unknown> }).spec.connectionRef = { kind: 'ClusterVCDConnection', name: provider };
    (claim as { spec: Record<string, unknown> }).spec.org = { name: 'acme' };
    await kube.create(resources.fip, claim);
    const ready = await waitFor<KubeObject & { status?: { address?: string } }>(kube, resources.fip, team, 'via-provider', isReady, 60_000);
    assert.ok(ready?.status?.address, 'the claim holds an address');
    await kube.delete(resources.fip, 'via-provider', team);
    await waitFor(kube, resources.fip, team, 'via-provider', (o) => o === undefined, 30_000);
    await kube.delete(resources.cconn, provider);
  });
});
