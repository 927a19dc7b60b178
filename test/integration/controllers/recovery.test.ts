// Recovery with the binary's default flags (task deadline 10 min): after a lost allocate response
// and after a SIGKILL in the middle of an allocate task, the operator finds out what happened
// from VCD (its allocations and task records) and is done in seconds, not after the 11-minute
// window, still with exactly one allocation per claim.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMarker } from '../../../src/reconcile/index.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { createTenantConnection, floatingIPClaim, isSettled, resources, userClient, waitFor } from '../../harness/operator.ts';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';

const ALLOCATE = 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate';

describe('recovery with default flags', function () {
  this.timeout(180_000);
  let sim: RunningSim;
  let kube: KubeClient;
  let opNs: string;
  let ns: string;
  const procs: ChildProcess[] = [];
  const logDir = mkdtempSync(join(tmpdir(), 'vcd-operator-recovery-'));

  function startOperator(identity: string): ChildProcess {
    // No --task-timeout and no pending window: the defaults users get.
    const child = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${controlPlane().kubeconfigPath}`,
        `--operator-namespace=${opNs}`,
        `--identity=${identity}`,
        '--probe-port=0',
        '--lease-duration=2',
        '--renew-deadline=1.5',
        '--retry-period=0.2',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const log = createWriteStream(join(logDir, `${identity}.log`));
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    procs.push(child);
    return child;
  }

  const spaceAllocs = () =>
    sim.admin
      .state()
      .vcd.ipSpaces.find((s) => s.name === 'public-ips')
      ?.allocations.filter((a) => a.type === 'FLOATING_IP') ?? [];

  async function assertOneEach(names: string[]): Promise<void> {
    const ready = await Promise.all(names.map((n) => kube.get<KubeObject & { status?: { allocationId?: string } }>(resources.fip, n, ns)));
    const ids = ready.map((c) => c.status?.allocationId);
    assert.equal(new Set(ids).size, names.length, 'every claim has its own allocation');
    const mine = spaceAllocs().filter((a) => parseMarker(a.description)?.namespace === ns);
    assert.deepEqual(mine.map((a) => a.id).sort(), [...ids].sort(), 'exactly one marked allocation per claim');
    assert.equal(spaceAllocs().filter((a) => a.usageState === 'UNUSED').length, 0, 'no unmarked allocation is left');
  }

  async function cleanUp(names: string[]): Promise<void> {
    for (const n of names) await kube.delete(resources.fip, n, ns);
    for (const n of names) await waitFor(kube, resources.fip, ns, n, (o) => o === undefined, 60_000);
  }

  before(async function () {
    // Tasks slow enough for a kill to land in the middle of one.
    sim = await startSimulator({ knobs: { taskDurationMs: 1500 } });
    kube = userClient();
    opNs = await freshNamespace('op');
    ns = await freshNamespace('recover');
    await createTenantConnection(kube, sim, ns, { org: 'acme' });
  });
  after(async function () {
    // Nothing of this test is left for the operators of later tests to log in with.
    await kube?.delete(resources.conn, 'acme-conn', ns).catch(() => undefined);
    for (const p of procs) p.kill('SIGKILL');
    await sim?.stop();
  });

  it('after a lost allocate response: all claims Ready within 30 s, one allocation each', async function () {
    const op = startOperator('lost-response');
    sim.admin.addFault({ route: ALLOCATE, kind: 'drop-after-commit', times: 1 });
    const names = Array.from({ length: 8 }, (_, i) => `lost-${i}`);
    const t0 = Date.now();
    for (const n of names) await kube.create(resources.fip, floatingIPClaim(ns, n, {}));
    await Promise.all(names.map((n) => waitFor(kube, resources.fip, ns, n, isSettled, 30_000)));
    const took = Date.now() - t0;
    assert.deepEqual(sim.admin.faults(), [], 'the response was lost');
    await assertOneEach(names);
    console.log(`      all Ready ${(took / 1000).toFixed(1)} s after a lost allocate response`);
    await cleanUp(names);
    op.kill('SIGTERM');
    await new Promise((r) => op.once('exit', r));
  });

  it('after a SIGKILL in the middle of an allocate task: all claims Ready within 30 s of the restart, one allocation each', async function () {
    const first = startOperator('killed');
    const names = Array.from({ length: 8 }, (_, i) => `kill-${i}`);
    const calls = sim.admin.callCount(ALLOCATE);
    for (const n of names) await kube.create(resources.fip, floatingIPClaim(ns, n, {}));
    // Kill as soon as the first allocate is sent: its task runs on, the next batch is guarded.
    const deadline = Date.now() + 30_000;
    while (sim.admin.callCount(ALLOCATE) === calls && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const guarded = (await kube.list<KubeObject>(resources.fip, { namespace: ns })).items.filter(
      (c) => c.metadata?.annotations?.['vcd-operator.io/create-pending'],
    );
    assert.ok(guarded.length > 0, 'claims were left with a pending guard');

    const restarted = Date.now();
    startOperator('restarted');
    await Promise.all(names.map((n) => waitFor(kube, resources.fip, ns, n, isSettled, 30_000)));
    console.log(`      all Ready ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart (${guarded.length} claims were guarded)`);
    await assertOneEach(names);
    // Released while the operator still runs, so no claim of this test outlives it for later tests' operators.
    await cleanUp(names);
  });
});
