// `npm run bench -- --scenario=metering`: a TrafficMeter over E tenant edges (default 100) on one
// shared Tier-0 and D more (default 5) on Tier-0s of their own, every meter point, the operator
// binary against a local control plane and the simulator. Prints the NSX calls of the discovery
// poll and of each later poll (the limit is one read per interface), and the operator's CPU per poll.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ClusterVCDConnectionResource, NSXConnectionResource, TrafficMeterResource } from '../src/api/index.ts';
import { SecretResource } from '../src/controllers/connections/controller.ts';
import { KubeClient, KubeHttp, type KubeObject } from '../src/runtime/index.ts';
import { edgesFixture, startSimulator, type RunningSim } from '../src/sim/index.ts';
import { startControlPlane } from '../test/harness/controlPlane.ts';
import { ensureTestBins } from './lib/test-bins.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    edges: { type: 'string', default: '100' },
    dedicated: { type: 'string', default: '5' },
    'interval-seconds': { type: 'string', default: '5' },
    polls: { type: 'string', default: '5' },
  },
});
const E = Number(values.edges);
const D = Number(values.dedicated);
const intervalS = Number(values['interval-seconds']);
const P = Number(values.polls);

const say = (line: string): void => console.log(`[bench-metering] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}

function nsxCalls(sim: RunningSim): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of sim.admin.counters()) if (c.service === 'nsx' && !c.route.includes('/api/session')) out.set(c.route, (out.get(c.route) ?? 0) + c.count);
  return out;
}
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  await ensureTestBins(say);
  const cp = await startControlPlane({ log: say });
  const sim = await startSimulator({ fixture: edgesFixture({ shared: E, dedicated: D, prefix: 'bench' }) });
  const kube = new KubeClient(new KubeHttp(cp.kubeConfig()));
  const ns = 'vcd-operator-system';
  const operator = spawn(
    process.execPath,
    ['src/main.ts', `--kubeconfig=${cp.kubeconfigPath}`, '--leader-elect=false', '--probe-port=0', '--log-level=warn', '--vcd-events=false'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const pid = operator.pid ?? 0;
  try {
    await kube.create({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, { metadata: { name: ns } });
    await kube.create(SecretResource, {
      metadata: { name: 'provider-creds', namespace: ns },
      stringData: { apiToken: sim.credentials.provider.apiToken },
    } as KubeObject);
    await kube.create(SecretResource, {
      metadata: { name: 'nsx-creds', namespace: ns },
      stringData: { username: sim.nsx.username, password: sim.nsx.password },
    } as KubeObject);
    await kube.create(ClusterVCDConnectionResource, {
      metadata: { name: 'provider' },
      spec: { url: sim.vcd.url, org: 'System', credentialsSecretRef: { name: 'provider-creds' }, caBundle: sim.caPem },
    } as KubeObject);
    await kube.create(NSXConnectionResource, {
      metadata: { name: 'nsx' },
      spec: { url: sim.nsx.url, credentialsSecretRef: { name: 'nsx-creds' }, caBundle: sim.caPem },
    } as KubeObject);
    await kube.create(TrafficMeterResource, {
      metadata: { name: 'bench' },
      spec: {
        nsxConnectionRef: { name: 'nsx' },
        vcdConnectionRef: { name: 'provider' },
        meterPoints: ['Tier0Downlink', 'Tier0Uplink', 'Tier1ServiceInterface'],
        intervalSeconds: intervalS,
      },
    } as KubeObject);
    say(`operator pid ${pid}; TrafficMeter over ${E + 2 + D} edges (${D} with a Tier-0 of their own), every ${intervalS} s`);

    // Poll boundaries from status.lastPollTime; NSX calls and CPU read at each boundary.
    const boundaries: Array<{ calls: Map<string, number>; cpu: number }> = [];
    let last = '';
    const deadline = Date.now() + (P + 3) * intervalS * 1000 + 60_000;
    while (boundaries.length < P + 1 && Date.now() < deadline) {
      const m = await kube.get<KubeObject & { status?: { lastPollTime?: string } }>(TrafficMeterResource, 'bench').catch(() => undefined);
      const t = m?.status?.lastPollTime ?? '';
      if (t && t !== last) {
        last = t;
        boundaries.push({ calls: nsxCalls(sim), cpu: cpuSeconds(pid) });
      }
      await sleep(100);
    }
    if (boundaries.length < 2) throw new Error('the meter did not poll');
    const first = boundaries[0] as { calls: Map<string, number>; cpu: number };
    say(`first poll (discovery included): ${total(first.calls)} NSX calls`);
    for (const [route, n] of [...first.calls].sort((a, b) => b[1] - a[1])) say(`  ${n} × ${route}`);
    const perPoll: number[] = [];
    const cpuPerPoll: number[] = [];
    for (let i = 1; i < boundaries.length; i++) {
      const a = boundaries[i - 1] as (typeof boundaries)[number];
      const b = boundaries[i] as (typeof boundaries)[number];
      perPoll.push(total(b.calls) - total(a.calls));
      cpuPerPoll.push(b.cpu - a.cpu);
    }
    // A downlink per edge, acme-edge's service interface, and the uplink of each Tier-0 one edge has
    // alone (the shared Tier-0's uplink is no one tenant's, so it is not read).
    const interfaces = E + 2 + D + 1 + D;
    say(
      `later polls: NSX calls per poll ${perPoll.join(', ')} (limit: one read per interface = ${interfaces}; naive: discovery every poll = ${total(first.calls)})`,
    );
    say(`operator CPU per poll: ${cpuPerPoll.map((c) => `${(c * 1000).toFixed(0)} ms`).join(', ')} (includes its idle work over ${intervalS} s)`);
  } finally {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
    await sim.stop();
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
