// Benchmark scenario "trust": the operator binary on a local control plane builds a full trust
// mesh between V simulated vCenters from empty (V × (V − 1) ordered pairs) with per-request
// latency, then rests through a few resyncs. Prints time to Ready, vCenter calls, writes (the
// limit is one add per ordered pair) and, at rest, writes and reads per resync (writes must be 0).
// Run: `npm run bench -- --scenario trust` or `node scripts/bench-trust.ts`;
// options --vcenters, --latency-ms, --resync-seconds, --resyncs.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { VCenterTrustResource, type VCenterTrust } from '../src/api/index.ts';
import { SecretResource } from '../src/controllers/connections/controller.ts';
import { KubeClient, KubeHttp, type KubeObject } from '../src/runtime/index.ts';
import { DEFAULT_FIXTURE_PATH, startSimulator, type RunningSim } from '../src/sim/index.ts';
import { startControlPlane } from '../test/harness/controlPlane.ts';
import { ensureTestBins } from './lib/test-bins.ts';

const say = (line: string): void => console.log(`[bench-trust] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const CHAINS = /trusted-root-chains/;
const NS = 'vcd-operator-system';

export interface TrustBenchOptions {
  vcenters: number;
  latencyMs: number;
  resyncSeconds: number;
  resyncs: number;
}

/** The default fixture with `n` vCenters vc-0 … vc-{n-1} instead of its three. */
function fixtureWith(n: number): string {
  const f = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as { vcenters: Array<{ name: string; username: string; password: string }> };
  f.vcenters = Array.from({ length: n }, (_, i) => ({ name: `vc-${i}`, username: 'administrator@vsphere.local', password: `sim-Vc${i}-pw1` }));
  return stringify(f);
}

interface Calls {
  total: number;
  sessions: number;
  reads: number;
  writes: number;
  tlsReads: number;
}

function vcenterCalls(sim: RunningSim): Calls {
  const c: Calls = { total: 0, sessions: 0, reads: 0, writes: 0, tlsReads: 0 };
  for (const r of sim.admin.counters()) {
    if (r.service !== 'vcenter') continue;
    c.total += r.count;
    if (/session/.test(r.route)) c.sessions += r.count;
    else if (r.route.startsWith('GET ')) c.reads += r.count;
    else if (CHAINS.test(r.route)) c.writes += r.count;
    if (/^GET \S+\/tls$/.test(r.route)) c.tlsReads += r.count;
  }
  return c;
}

const minus = (a: Calls, b: Calls): Calls => ({
  total: a.total - b.total,
  sessions: a.sessions - b.sessions,
  reads: a.reads - b.reads,
  writes: a.writes - b.writes,
  tlsReads: a.tlsReads - b.tlsReads,
});

export async function runTrustBench(o: TrustBenchOptions): Promise<void> {
  const V = o.vcenters;
  const pairs = V * (V - 1);
  await ensureTestBins(say);
  const cp = await startControlPlane({ log: say });
  const sim = await startSimulator({ fixture: fixtureWith(V), knobs: { latencyMs: o.latencyMs } });
  const kube = new KubeClient(new KubeHttp(cp.kubeConfig()));
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    await kube.create({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, { metadata: { name: NS } });
    for (const v of sim.vcenters) {
      await kube.create(SecretResource, {
        metadata: { name: `${v.name}-creds`, namespace: NS },
        stringData: { username: v.username, password: v.password },
      } as KubeObject);
    }
    operator = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${cp.kubeconfigPath}`,
        `--operator-namespace=${NS}`,
        '--leader-elect=false',
        '--probe-port=0',
        '--log-level=warn',
        `--trust-resync=${o.resyncSeconds}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // Let the operator start (caches synced) before the clock runs.
    await sleep(3000);
    say(`${V} vCenters, ${pairs} ordered pairs, latency ${o.latencyMs} ms per request, resync every ${o.resyncSeconds} s`);
    for (const [a, b] of [['vc-0', 'vc-1']] as const) {
      const check = sim.admin.vcenterTrust(a, b);
      say(`before: ${a} -> ${b}: ${check.trusted ? 'trusted' : check.fault}`);
    }

    const before = vcenterCalls(sim);
    const t0 = Date.now();
    await kube.create(VCenterTrustResource, {
      metadata: { name: 'bench-mesh' },
      spec: { members: sim.vcenters.map((v) => ({ name: v.name, url: v.url, credentialsSecretRef: { name: `${v.name}-creds` }, caBundle: v.caPem })) },
    } as KubeObject);
    let ready: VCenterTrust | undefined;
    for (;;) {
      const t = await kube.get<VCenterTrust>(VCenterTrustResource, 'bench-mesh');
      if (t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
        ready = t;
        break;
      }
      if (Date.now() - t0 > 300_000) throw new Error(`not Ready within 5 minutes: ${JSON.stringify(t.status?.conditions)}`);
      await sleep(20);
    }
    const seconds = (Date.now() - t0) / 1000;
    const build = minus(vcenterCalls(sim), before);
    const adds = sim.admin.audit().filter((e) => e.service === 'vcenter' && CHAINS.test(e.path) && Date.parse(e.at) >= t0 - 1000);
    const at = (e: { at: string } | undefined) => (e ? ((Date.parse(e.at) - t0) / 1000).toFixed(2) : '?');
    say(`first add at +${at(adds[0])} s, last at +${at(adds.at(-1))} s; Ready seen at +${seconds.toFixed(2)} s`);
    let holding = 0;
    for (const a of sim.vcenters) for (const b of sim.vcenters) if (a !== b && sim.admin.vcenterTrust(a.name, b.name).trusted) holding++;
    say(`Ready after ${seconds.toFixed(2)} s (${ready.status?.pairs ?? '?'} pairs); the simulator's cross-vCenter check passes for ${holding}/${pairs} pairs`);

    // At rest: settle past the confirming round, then count over whole resyncs.
    await sleep(2000);
    const restStart = vcenterCalls(sim);
    await sleep(o.resyncs * o.resyncSeconds * 1000 + 500);
    const rest = minus(vcenterCalls(sim), restStart);
    const resyncs = rest.tlsReads / V; // every round reads each member's TLS certificate once

    // The least a from-empty mesh needs: per vCenter one login, its TLS certificate, the list and its
    // own root (to find it), then one add per peer. Members run in parallel, each one's adds in turn.
    const limitCalls = V * 4 + pairs;
    const limitSeconds = (4 - 1 + (V - 1)) * (o.latencyMs / 1000); // login, then tls+list together, get, adds
    // A per-pair script (as providers run with PowerCLI): log in to both, read the source root
    // (tls, list, get), list the target and read its chains to compare, add; pairs one after another.
    const naiveCalls = pairs * (2 + 3 + 1 + V / 2 + 1);
    const naiveSeconds = naiveCalls * (o.latencyMs / 1000);
    const rows: Array<[string, string, string, string]> = [
      ['time to Ready', `${seconds.toFixed(2)} s`, `${naiveSeconds.toFixed(1)} s`, `${limitSeconds.toFixed(2)} s`],
      [
        'vCenter calls (build)',
        `${build.total} (${build.sessions} logins, ${build.reads} reads, ${build.writes} writes)`,
        String(naiveCalls),
        String(limitCalls),
      ],
      ['writes (adds)', String(build.writes), String(pairs), String(pairs)],
      ['writes per resync at rest', resyncs > 0 ? (rest.writes / resyncs).toFixed(1) : 'no resync seen', '-', '0'],
      [
        'reads per resync at rest',
        resyncs > 0 ? `${(rest.reads / resyncs).toFixed(1)} (${(rest.reads / resyncs / V).toFixed(1)} per vCenter)` : '-',
        '-',
        `${2 * V}`,
      ],
      ['logins at rest', String(rest.sessions), '-', '0'],
    ];
    const w = [26, 44, 14, 10];
    const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i] ?? 10)).join(' | ') + ' |';
    console.log(`\nScenario trust: ${V} vCenters, full mesh (${pairs} ordered pairs) from empty, ${o.latencyMs} ms latency`);
    console.log(line(['metric', 'measured', 'naive', 'limit']));
    console.log(line(w.map((n) => '-'.repeat(n))));
    for (const r of rows) console.log(line(r));
    console.log(
      `\nat rest: ${resyncs.toFixed(1)} resyncs in ${o.resyncs * o.resyncSeconds} s; each reads every member's TLS certificate and chain list (chain contents are cached by id).` +
        `\nnaive: a per-pair script, pairs in turn; limit: members in parallel, each: login, tls + list, its own root, then its ${V - 1} adds in turn.` +
        `\nwrites within the limit of ${pairs}: ${build.writes <= pairs ? 'met' : 'NOT met'}; writes at rest 0: ${rest.writes === 0 ? 'met' : 'NOT met'}; every pair trusted: ${holding === pairs ? 'met' : 'NOT met'}.`,
    );
    if (build.writes > pairs || rest.writes !== 0 || holding !== pairs) process.exitCode = 1;
  } finally {
    operator?.kill('SIGTERM');
    await sleep(500);
    await sim.stop();
    await cp.stop();
  }
}

export function trustBenchOptions(args: string[]): TrustBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vcenters: { type: 'string', default: '10' },
      'latency-ms': { type: 'string', default: '20' },
      'resync-seconds': { type: 'string', default: '5' },
      resyncs: { type: 'string', default: '3' },
    },
    strict: false,
  });
  return {
    vcenters: Number(values.vcenters),
    latencyMs: Number(values['latency-ms']),
    resyncSeconds: Number(values['resync-seconds']),
    resyncs: Number(values.resyncs),
  };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  runTrustBench(trustBenchOptions(process.argv.slice(2))).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
