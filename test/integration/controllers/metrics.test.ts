// The operator binary's /metrics as Prometheus scrapes it: the VCD client's request metrics of
// every connection are there, labelled with the connection, next to the controller metrics.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { KubeClient } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { createTenantConnection, floatingIPClaim, isReady, resources, userClient, waitFor } from '../../harness/operator.ts';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';

describe('operator binary /metrics', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let kube: KubeClient;
  let proc: ChildProcess | undefined;
  const output: string[] = [];

  /** Starts src/main.ts and resolves with its probe port once it logs that it started. */
  function startOperator(opNs: string, ns: string): Promise<number> {
    const child = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${controlPlane().kubeconfigPath}`,
        `--operator-namespace=${opNs}`,
        `--namespace=${ns}`,
        '--probe-port=0',
        '--leader-elect=false',
        '--task-timeout=5',
        '--log-level=info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc = child;
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`operator exited with ${code}: ${output.join('').slice(-2000)}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        output.push(line);
        try {
          const rec = JSON.parse(line) as { msg?: string; probePort?: number };
          if (rec.msg === 'vcd-operator started' && rec.probePort) resolve(rec.probePort);
        } catch {
          // not a log record
        }
      });
    });
  }

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    kube = userClient();
  });
  after(async function () {
    proc?.kill('SIGKILL');
    await sim?.stop();
  });

  it('serves vcd_client_requests_total with the connection label after a claim is Ready, and exits 0 on SIGTERM', async function () {
    const opNs = await freshNamespace('op');
    const ns = await freshNamespace('metrics');
    const port = await startOperator(opNs, ns);
    const conn = await createTenantConnection(kube, sim, ns, { org: 'acme' });
    await kube.create(resources.fip, floatingIPClaim(ns, 'm1', { connection: conn }));
    await waitFor(kube, resources.fip, ns, 'm1', isReady, 60_000);

    // The reconcile that made the claim Ready is counted when it returns, after marking the allocation.
    const reconciled = /controller_runtime_reconcile_total\{controller="floatingipclaim",result="(success|requeue_after)"\} [1-9]/;
    let text = '';
    for (let i = 0; i < 100 && !reconciled.test(text); i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      text = await res.text();
    }
    const connection = `VCDConnection/${ns}/${conn}`;
    const series = (operation: string, status: string): number => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`vcd_client_requests_total{connection="${connection}",operation="${operation}",status="${status}"} `));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    assert.equal(
      series('ipSpaces.allocate', '202'),
      sim.admin.callCount('POST /cloudapi/1.0.0/ipSpaces/{id}/allocate'),
      'one series sample per allocate the simulator saw',
    );
    assert.ok(
      series('ipSpaces.allocate', '202') >= 1,
      text
        .split('\n')
        .filter((l) => l.startsWith('vcd_client_'))
        .join('\n'),
    );
    assert.match(
      text,
      new RegExp(`vcd_client_request_duration_seconds_count\\{connection="${connection.replace(/\//g, '\\/')}",operation="task\\.get",status="200"\\} [1-9]`),
    );
    // The controller metrics share the registry.
    assert.match(text, reconciled);

    // SIGTERM: the manager drains, logs out of VCD (the pool is one of its runnables) and exits 0.
    proc?.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => proc?.once('exit', (code) => resolve(code)));
    proc?.kill('SIGTERM');
    const logouts = sim.admin.callCount('DELETE /cloudapi/1.0.0/sessions/current');
    assert.equal(await exited, 0);
    assert.equal(sim.admin.callCount('DELETE /cloudapi/1.0.0/sessions/current'), logouts + 1, 'the connection logged out of VCD on the way out');
    proc = undefined;
  });
});
