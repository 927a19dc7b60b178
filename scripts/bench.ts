// `npm run bench`: the operator binary on a local control plane against the simulator, measured.
// Scenario 1: N FloatingIPClaims over S IP Spaces with per-request latency and slow tasks, VCD
// serialising allocate per IP Space. Prints time to all Ready, allocate tasks, VCD calls per claim,
// the operator's peak RSS and VCD calls at rest, beside the naive baseline and the limit.
// Options: --claims, --spaces, --latency-ms, --task-ms, --idle-seconds; --scenario trust runs
// scripts/bench-trust.ts instead, --scenario firewall scripts/bench-firewall.ts, --scenario events
// scripts/bench-events.ts (--claims, --repairs, --wait-seconds), --scenario metering
// scripts/bench-metering.ts (--edges, --polls, --interval-seconds). For digging into a run:
// BENCH_OPERATOR_ARGS adds flags to the operator (e.g. "--log-level=info"), BENCH_OPERATOR_LOG
// names a file for its log.
import { spawn } from 'node:child_process';
import { Watch } from '@kubernetes/client-node';
import { openSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VCDConnectionResource, FloatingIPClaimResource } from '../src/api/index.ts';
import { SecretResource } from '../src/controllers/connections/controller.ts';
import { KubeClient, KubeHttp, type KubeObject } from '../src/runtime/index.ts';
import { scaleFixture, startSimulator, type RunningSim } from '../src/sim/index.ts';
import { startControlPlane } from '../test/harness/controlPlane.ts';
import { ensureTestBins } from './lib/test-bins.ts';

const ALLOCATE = 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate';

// `--scenario trust` runs the VCenterTrust scenario (scripts/bench-trust.ts) with the other options.
const argv = process.argv.slice(2);
const scenarioAt = argv.findIndex((a) => a === '--scenario' || a.startsWith('--scenario='));
if (scenarioAt >= 0) {
  const scenario = argv[scenarioAt]?.includes('=') ? argv[scenarioAt]?.split('=')[1] : argv[scenarioAt + 1];
  const own: Record<string, string> = { firewall: 'scripts/bench-firewall.ts', events: 'scripts/bench-events.ts', metering: 'scripts/bench-metering.ts' };
  if (scenario !== 'trust' && !(scenario && own[scenario])) throw new Error(`unknown --scenario ${scenario ?? ''}: trust, ${Object.keys(own).join(', ')} are the ones there are besides the default`);
  const rest = argv.filter((_, i) => i !== scenarioAt && !(i === scenarioAt + 1 && !argv[scenarioAt]?.includes('=')));
  const script = scenario ? own[scenario] : undefined;
  if (script) {
    // Its own process: the scenario reads its options from its command line.
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const { runTrustBench, trustBenchOptions } = await import('./bench-trust.ts');
  await runTrustBench(trustBenchOptions(rest));
  process.exit(process.exitCode ?? 0);
}

const { values } = parseArgs({
  options: {
    claims: { type: 'string', default: '1000' },
    spaces: { type: 'string', default: '10' },
    'latency-ms': { type: 'string', default: '20' },
    'task-ms': { type: 'string', default: '500' },
    'idle-seconds': { type: 'string', default: '30' },
  },
});
const N = Number(values.claims);
const S = Number(values.spaces);
const latencyMs = Number(values['latency-ms']);
const taskMs = Number(values['task-ms']);
const idleSeconds = Number(values['idle-seconds']);

const say = (line: string): void => console.log(`[bench] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Claim extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string }> };
}

function vcdCalls(sim: RunningSim): number {
  return sim.admin
    .counters()
    .filter((c) => c.service === 'vcd')
    .reduce((sum, c) => sum + c.count, 0);
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function main(): Promise<void> {
  await ensureTestBins(say);
  const cp = await startControlPlane({ log: say });
  const sim = await startSimulator({ fixture: scaleFixture(S), knobs: { latencyMs, taskDurationMs: taskMs, serializeIpSpaces: true } });
  const kube = new KubeClient(new KubeHttp(cp.kubeConfig()));
  const ns = 'bench';
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    for (const name of [ns, 'vcd-operator-system']) await kube.create({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, { metadata: { name } });
    const tenant = sim.credentials.tenants.find((t) => t.org === 'acme');
    await kube.create(SecretResource, { metadata: { name: 'acme-creds', namespace: ns }, stringData: { apiToken: tenant?.apiToken ?? '' } } as KubeObject);
    await kube.create(VCDConnectionResource, {
      metadata: { name: 'acme', namespace: ns },
      spec: { url: sim.vcd.url, org: 'acme', credentialsSecretRef: { name: 'acme-creds' }, caBundle: sim.caPem },
    } as KubeObject);

    operator = spawn(process.execPath, ['src/main.ts', `--kubeconfig=${cp.kubeconfigPath}`, '--leader-elect=false', '--probe-port=0', '--log-level=warn', '--task-timeout=120', ...(process.env.BENCH_OPERATOR_ARGS ?? '').split(' ').filter(Boolean)], {
      stdio: ['ignore', process.env.BENCH_OPERATOR_LOG ? openSync(process.env.BENCH_OPERATOR_LOG, 'w') : 'ignore', 'inherit'],
    });
    const pid = operator.pid ?? 0;
    for (;;) {
      const conn = await kube.get<Claim>(VCDConnectionResource, 'acme', ns);
      if (conn.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
      await sleep(100);
    }
    say(`operator pid ${pid} connected; ${N} FloatingIPClaims over ${S} IP Spaces, latency ${latencyMs} ms, tasks ${taskMs} ms, allocate serialised per IP Space`);

    const callsBefore = vcdCalls(sim);
    const cpuBefore = cpuSeconds(pid);
    const allocBefore = sim.admin.callCount(ALLOCATE);
    const t0 = Date.now();
    let next = 0;
    const create = async (): Promise<void> => {
      while (next < N) {
        const i = next++;
        await kube.create(FloatingIPClaimResource, {
          metadata: { name: `claim-${i}`, namespace: ns },
          spec: { connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: `scale-ips-${i % S}` } },
        } as KubeObject);
      }
    };
    await Promise.all(Array.from({ length: 16 }, create));
    say(`created ${N} claims in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // A watch, not repeated lists: the measuring must not compete with the operator for the CPU.
    const readyNames = new Set<string>();
    const watch = await new Watch(cp.kubeConfig()).watch(
      `/apis/vcd-operator.io/v1alpha1/namespaces/${ns}/floatingipclaims`,
      {},
      (_type: string, c: Claim) => {
        if (c.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True')) readyNames.add(c.metadata?.name ?? '');
      },
      () => undefined,
    );
    let lastPrint = 0;
    while (readyNames.size < N) {
      if (Date.now() - lastPrint > 1000) {
        say(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${readyNames.size}/${N} Ready`);
        lastPrint = Date.now();
      }
      if (Date.now() - t0 > 600_000) throw new Error('not all claims became Ready within 10 minutes');
      await sleep(20);
    }
    watch.abort();
    say(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${N}/${N} Ready`);
    const seconds = (Date.now() - t0) / 1000;
    const calls = vcdCalls(sim) - callsBefore;
    const tasks = sim.admin.callCount(ALLOCATE) - allocBefore;
    const rss = peakRssMb(pid);
    const cpu = cpuSeconds(pid) - cpuBefore;

    // At rest: after the last status echoes have settled, nothing should call VCD until the drift check.
    await sleep(5000);
    const atRest = vcdCalls(sim);
    await sleep(idleSeconds * 1000);
    const restPerMin = ((vcdCalls(sim) - atRest) * 60) / idleSeconds;

    const perSpace = N / S;
    const task = taskMs / 1000;
    const naiveSeconds = perSpace * task;
    const limitSeconds = Math.ceil(perSpace / 5) * task;
    // Per claim at the least: its share of one allocate and one task read per five, one mark and its task read.
    const limitCalls = 2 / 5 + 2;
    const naiveCalls = 2 + 2;
    const rows: Array<[string, string, string, string]> = [
      ['time to all Ready', `${seconds.toFixed(1)} s (${(seconds / limitSeconds).toFixed(2)}x limit)`, `${naiveSeconds.toFixed(1)} s`, `${limitSeconds.toFixed(1)} s`],
      ['allocate tasks', String(tasks), String(N), String(S * Math.ceil(perSpace / 5))],
      ['VCD calls per claim', (calls / N).toFixed(2), naiveCalls.toFixed(2), limitCalls.toFixed(2)],
      ['VCD calls/min at rest', restPerMin.toFixed(1), '-', '0'],
      ['operator peak RSS', `${rss.toFixed(0)} MB`, '-', '-'],
      ['operator CPU', `${cpu.toFixed(1)} s (${((cpu / seconds) * 100).toFixed(0)}% of a core)`, '-', '-'],
    ];
    const w = [22, 26, 16, 12];
    const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i] ?? 10)).join(' | ') + ' |';
    console.log('\nScenario 1: FloatingIPClaims');
    console.log(line(['metric', 'measured', 'naive baseline', 'limit']));
    console.log(line(w.map((n) => '-'.repeat(n))));
    for (const r of rows) console.log(line(r));
    const byRoute = sim.admin
      .counters()
      .filter((c) => c.service === 'vcd' && c.count > 0)
      .sort((a, b) => b.count - a.count)
      .slice(0, 8)
      .map((c) => `${c.route} ${c.count}`);
    console.log(`\nVCD calls by route (whole run): ${byRoute.join('; ')}`);
    console.log(
      `\nnaive: one allocate task per claim, serialised per IP Space (${perSpace} x ${taskMs} ms); limit: ceil(${perSpace}/5) tasks per IP Space.` +
        `\ncalls per claim: naive = allocate + task read + mark + task read; limit = (allocate + task read)/5 + mark + task read.` +
        `\ntarget: time to all Ready within 1.3x of the limit: ${seconds <= limitSeconds * 1.3 ? 'met' : 'NOT met'}.`,
    );
  } finally {
    operator?.kill('SIGTERM');
    await sleep(500);
    await sim.stop();
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
