// `npm run demo`: the operator on a local Kubernetes control plane against the simulator.
// Builds or reuses the control plane binaries, starts etcd + kube-apiserver, the simulator and
// the operator, applies examples/ with kubectl, shows progress until everything is Ready, prints
// `kubectl get vcd -A` and how to explore, and runs until Ctrl-C, then cleans up.
//
//   npm run demo                          local control plane (never the cluster KUBECONFIG points at)
//   npm run demo -- --kubeconfig FILE     an existing cluster, only when asked for explicitly
//   npm run demo -- --exit-when-ready     stop once everything is Ready (smoke tests)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { KubeClient, KubeHttp, type KubeObject } from '../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../src/sim/index.ts';
import { installCRDs, loadCRDs, startControlPlane, type ControlPlane } from '../test/harness/controlPlane.ts';
import { bindToSimulator, loadExamples, resourceOf } from './lib/examples.ts';
import { ensureTestBins } from './lib/test-bins.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OPERATOR_NAMESPACE = 'vcd-operator-system';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    'exit-when-ready': { type: 'boolean', default: false },
    'timeout-seconds': { type: 'string', default: '180' },
  },
});

const say = (line: string): void => console.log(`[demo] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface WithReady extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
}

function kubectl(bin: string, kubeconfig: string, args: string[], input?: string): string {
  const res = spawnSync(bin, [`--kubeconfig=${kubeconfig}`, ...args], { input, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${res.stderr || res.stdout}`);
  return res.stdout;
}

async function main(): Promise<void> {
  const assets = await ensureTestBins(say);
  let cp: ControlPlane | undefined;
  let sim: RunningSim | undefined;
  let operator: ChildProcess | undefined;
  let kubeconfig: string;
  const workDir = mkdtempSync(join(tmpdir(), 'vcd-operator-demo-'));
  let cleaning: Promise<void> | undefined;
  let boundDocs: KubeObject[] = [];

  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      say('cleaning up');
      if (values.kubeconfig && sim && operator) {
        // On a cluster we do not own, give the examples' allocations back before the operator stops.
        try {
          // Namespaces stay: they may have been there before the demo.
          const objects = join(workDir, 'examples-objects.yaml');
          writeFileSync(
            objects,
            boundDocs
              .filter((d) => d.kind !== 'Namespace')
              .map((d) => stringify(d))
              .join('---\n'),
            { mode: 0o600 },
          );
          kubectl(assets.kubectl, kubeconfig, ['delete', '--ignore-not-found', '--wait=true', '--timeout=60s', '-f', objects]);
        } catch (err) {
          say(`could not delete the examples: ${(err as Error).message}`);
        }
      }
      operator?.kill('SIGTERM');
      await sleep(1000);
      operator?.kill('SIGKILL');
      await sim?.stop();
      await cp?.stop();
      rmSync(workDir, { recursive: true, force: true });
    })());
  process.once('SIGINT', () => void cleanup().then(() => process.exit(0)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(0)));

  try {
    if (values.kubeconfig) {
      kubeconfig = values.kubeconfig;
      say(`using the cluster in ${kubeconfig}, as asked`);
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      say('installing the CRDs');
      await installCRDs(kc, loadCRDs(join(root, 'crds')));
    } else {
      say('starting a local control plane (etcd + kube-apiserver); the cluster your KUBECONFIG names is not touched');
      cp = await startControlPlane({ log: say });
      kubeconfig = cp.kubeconfigPath;
    }
    const kube = new KubeClient(new KubeHttp(loadKubeConfig(kubeconfig)));

    sim = await startSimulator({ knobs: { latencyMs: 5, taskDurationMs: 200 } });
    say(`simulator: VCD ${sim.vcd.url}, NSX ${sim.nsx.url}, vCenters ${sim.vcenters.map((v) => v.name).join(', ')}`);

    const logFile = join(workDir, 'operator.log');
    operator = spawn(
      process.execPath,
      [
        join(root, 'src', 'main.ts'),
        `--kubeconfig=${kubeconfig}`,
        `--operator-namespace=${OPERATOR_NAMESPACE}`,
        '--leader-elect=false',
        '--probe-port=0',
        '--task-timeout=60',
      ],
      { stdio: ['ignore', openSync(logFile, 'w'), openSync(logFile, 'a')] },
    );
    operator.once('exit', (code, signal) => {
      if (!cleaning) say(`the operator stopped unexpectedly (${code ?? signal ?? '?'}); its log: ${logFile}`);
    });
    say(`operator started (pid ${operator.pid ?? '?'}), log: ${logFile}`);

    boundDocs = bindToSimulator(loadExamples(join(root, 'examples')), sim);
    const manifest = join(workDir, 'examples.yaml');
    writeFileSync(manifest, boundDocs.map((d) => stringify(d)).join('---\n'), { mode: 0o600 });
    say('kubectl apply -f examples/ (with the simulator URL, CA and API tokens filled in)');
    console.log(kubectl(assets.kubectl, kubeconfig, ['apply', '-f', manifest]).trimEnd().replace(/^/gm, '  '));

    const managed = boundDocs.filter((d) => d.apiVersion?.startsWith('vcd-operator.io/'));
    const deadline = Date.now() + Number(values['timeout-seconds']) * 1000;
    let lastLine = '';
    for (;;) {
      const states = await Promise.all(
        managed.map(async (d) => {
          const obj = await kube.get<WithReady>(resourceOf(d), d.metadata?.name ?? '', d.metadata?.namespace).catch(() => undefined);
          const ready = obj?.status?.conditions?.find((c) => c.type === 'Ready');
          return { name: `${d.kind ?? ''}/${d.metadata?.name ?? ''}`, ready: ready?.status === 'True', reason: ready?.reason ?? 'Pending' };
        }),
      );
      const done = states.filter((s) => s.ready).length;
      const waiting = states.filter((s) => !s.ready).map((s) => `${s.name} (${s.reason})`);
      const line = `${done}/${states.length} Ready${waiting.length ? `; waiting: ${waiting.join(', ')}` : ''}`;
      if (line !== lastLine) say(line);
      lastLine = line;
      if (done === states.length) break;
      if (Date.now() > deadline) throw new Error(`not everything became Ready in ${values['timeout-seconds']} s; see ${logFile}`);
      await sleep(500);
    }

    console.log('\n$ kubectl get vcd -A');
    console.log(kubectl(assets.kubectl, kubeconfig, ['get', 'vcd', '-A']));
    console.log('Explore it (in another terminal):');
    console.log(`  export KUBECONFIG=${kubeconfig}`);
    console.log(`  export PATH=${dirname(assets.kubectl)}:$PATH`);
    console.log('  kubectl get fip,ipp -n team-a -o wide');
    console.log('  kubectl get efw -A -o wide');
    console.log('  kubectl describe fip web -n team-a');
    console.log('  kubectl explain floatingipclaim.spec');
    console.log('  kubectl get vctrust -o wide; kubectl describe vctrust resource-vcenters');
    console.log('  kubectl get egu,esr -n team-a -o wide                        # the colo uplink and the default route through it');
    console.log("  kubectl get ips transit-public -n team-a -o jsonpath='{.status.tier0Advertisement}'");
    console.log(`  simulator state: curl -s --cacert ${sim.caFile} -H 'Authorization: Bearer ${sim.adminToken}' ${sim.vcd.url}/admin/state`);
    if (values['exit-when-ready']) {
      await cleanup();
      return;
    }
    console.log('\nPress Ctrl-C to stop and clean up.');
    await new Promise(() => undefined);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function loadKubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
