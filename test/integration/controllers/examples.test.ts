// The manifests in examples/ become Ready against the simulator's default fixture, exactly as the
// demo applies them.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EdgeStaticRouteResource, IPSpaceResource, type EdgeStaticRoute, type IPSpace } from '../../../src/api/index.ts';
import type { KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { bindToSimulator, createAll, loadExamples, resourceOf } from '../../../scripts/lib/examples.ts';
import { isReady, readyOf, startTestOperator, userClient, waitFor, type TestOperator } from '../../harness/operator.ts';

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

describe('examples/', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    op = await startTestOperator({ operatorNamespace: 'vcd-operator-system', taskTimeoutMs: 5000 });
  });
  after(async function () {
    await op?.stop();
    await sim?.stop();
  });

  it('become Ready against the default fixture', async function () {
    const kube = userClient();
    const docs = bindToSimulator(loadExamples(examplesDir), sim);
    await createAll(kube, docs);
    const managed = docs.filter((d) => d.apiVersion?.startsWith('vcd-operator.io/'));
    assert.ok(managed.length >= 5, `examples hold the operator's kinds (${managed.length})`);
    for (const d of managed) {
      const r = resourceOf(d);
      const obj = await waitFor<KubeObject>(kube, r, d.metadata?.namespace, d.metadata?.name ?? '', isReady, 60_000);
      assert.equal(readyOf(obj)?.status, 'True', `${d.kind} ${d.metadata?.name ?? ''}`);
    }
    const acme = sim.admin.state().vcd.ipSpaces.find((s) => s.name === 'acme-private');
    assert.ok(acme, 'the Private IP Space exists in VCD');
    const rules = sim.admin.state().vcd.edges.find((e) => e.name === 'acme-edge')?.firewallRules ?? [];
    assert.deepEqual(
      rules.map((r) => r['name']),
      ['team-b/ssh-from-transit', 'team-a/allow-https-to-web'],
    );
    assert.equal((rules[0]?.['appliedTo'] as { name?: string } | undefined)?.name, 'seg-transit');
    const advertised = await waitFor<IPSpace>(
      kube,
      IPSpaceResource,
      'team-a',
      'transit-public',
      (o) => o?.status?.tier0Advertisement?.conditions?.some((c) => c.type === 'Advertised' && c.status === 'True') === true,
    );
    assert.match(advertised?.status?.tier0Advertisement?.prefixListPath ?? '', /^\/infra\/tier-0s\/pg-public-t0\/prefix-lists\//);
    const route = await kube.get<EdgeStaticRoute>(EdgeStaticRouteResource, 'default-via-colo', 'team-a');
    assert.deepEqual(route.status?.writtenAs, ['0.0.0.0/1', '128.0.0.0/1']);
  });
});
