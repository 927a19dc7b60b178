// `npm run bench -- --scenario firewall` (or `npm run bench:firewall`): the operator binary on a local control
// plane against the simulator, EdgeFirewallRules measured in four scenarios, each figure beside
// the naive baseline (one whole-list write per rule) and the limit (one read and one write per edge):
//   A. R rules created at once on one edge that also holds F foreign rules;
//   B. E edges x P rules, edges in parallel;
//   C. one rule changed among the R of scenario A;
//   D. every rule Ready, at rest through drift checks: reads only, no writes.
// Options: --rules (500), --foreign (20), --edges (50), --per-edge (20), --latency-ms (20),
// --task-ms (500), --idle-seconds (30), --drift-seconds (10).
import { spawn } from 'node:child_process';
import { Watch } from '@kubernetes/client-node';
import { openSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { EdgeFirewallRuleResource, VCDConnectionResource } from '../src/api/index.ts';
import { VcdClient } from '../src/clients/vcd/index.ts';
import { SecretResource } from '../src/controllers/connections/controller.ts';
import { KubeClient, KubeHttp, type KubeObject } from '../src/runtime/index.ts';
import { DEFAULT_FIXTURE_PATH, type Fixture } from '../src/sim/fixtures/fixture.ts';
import { startSimulator } from '../src/sim/index.ts';
import { startControlPlane } from '../test/harness/controlPlane.ts';
import { ensureTestBins } from './lib/test-bins.ts';

const PUT_RULES = 'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules';
const GET_RULES = 'GET /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules';

const { values } = parseArgs({
  options: {
    rules: { type: 'string', default: '500' },
    foreign: { type: 'string', default: '20' },
    edges: { type: 'string', default: '50' },
    'per-edge': { type: 'string', default: '20' },
    'latency-ms': { type: 'string', default: '20' },
    'task-ms': { type: 'string', default: '500' },
    'idle-seconds': { type: 'string', default: '30' },
    'drift-seconds': { type: 'string', default: '10' },
  },
});
const R = Number(values.rules);
const F = Number(values.foreign);
const E = Number(values.edges);
const P = Number(values['per-edge']);
const latencyMs = Number(values['latency-ms']);
const taskMs = Number(values['task-ms']);
const idleSeconds = Number(values['idle-seconds']);
const driftSeconds = Number(values['drift-seconds']);

const say = (line: string): void => console.log(`[bench-firewall] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface RuleObj extends KubeObject {
  status?: { ruleId?: string; conditions?: Array<{ type: string; status: string; reason: string }> };
}

/** The default fixture plus E edges of org acme on pg-public. */
function benchFixture(edges: number): string {
  const f = parse(readFileSync(DEFAULT_FIXTURE_PATH, 'utf8')) as Fixture;
  for (let i = 0; i < edges; i++) f.edges.push({ name: `bench-edge-${i}`, org: 'acme', vdc: 'acme-vdc', uplinks: [{ externalNetwork: 'pg-public' }] });
  return stringify(f);
}

function rule(name: string, edge: string, priority: number, connection: string): KubeObject {
  return {
    metadata: { name, namespace: 'bench' },
    spec: {
      connectionRef: { kind: 'VCDConnection', name: connection },
      edgeGateway: { name: edge },
      action: 'Allow',
      services: { profiles: [{ name: 'HTTPS' }] },
      priority,
    },
  } as KubeObject;
}

/**
 * "Created at once", as when Argo CD syncs a directory: the rules are created first, naming a
 * connection that does not exist yet (they wait, ConnectionNotFound, nothing sent to VCD), then
 * the connection appears and the clock starts. So the figures measure the operator, not how fast
 * this machine's apiserver takes a thousand creates.
 */
async function openGate(kube: KubeClient, url: string, caPem: string, name: string): Promise<void> {
  await kube.create(VCDConnectionResource, {
    metadata: { name, namespace: 'bench' },
    spec: { url, org: 'acme', credentialsSecretRef: { name: 'acme-creds' }, caBundle: caPem },
  } as KubeObject);
}

const table = (title: string, rows: Array<[string, string, string, string]>): void => {
  const w = [30, 30, 26, 22];
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i] ?? 10)).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(['metric', 'measured', 'naive (one write per rule)', 'limit']));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const r of rows) console.log(line(r));
};

async function main(): Promise<void> {
  await ensureTestBins(say);
  const cp = await startControlPlane({ log: say });
  const sim = await startSimulator({ fixture: benchFixture(E), knobs: { latencyMs, taskDurationMs: taskMs } });
  const kube = new KubeClient(new KubeHttp(cp.kubeConfig()));
  const ns = 'bench';
  let operator: ReturnType<typeof spawn> | undefined;
  const calls = (route: string) => sim.admin.callCount(route);
  const ready = new Map<string, string>();
  let watch: { abort(): void } | undefined;
  let stopWatch = (): void => watch?.abort();
  try {
    for (const name of [ns, 'vcd-operator-system'])
      await kube.create({ group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false }, { metadata: { name } });
    const tenant = sim.credentials.tenants.find((t) => t.org === 'acme');
    await kube.create(SecretResource, { metadata: { name: 'acme-creds', namespace: ns }, stringData: { apiToken: tenant?.apiToken ?? '' } } as KubeObject);
    await kube.create(VCDConnectionResource, {
      metadata: { name: 'acme', namespace: ns },
      spec: { url: sim.vcd.url, org: 'acme', credentialsSecretRef: { name: 'acme-creds' }, caBundle: sim.caPem },
    } as KubeObject);

    // The foreign rules someone made in the UI, before the operator arrives.
    const vcd = await VcdClient.connect({ url: sim.vcd.url, org: 'acme', auth: { apiToken: tenant?.apiToken ?? '' }, caPem: sim.caPem });
    const edgeId = (await vcd.edgeGateways.findByName('acme-edge'))?.id ?? '';
    await vcd.firewall.put(
      edgeId,
      Array.from({ length: F }, (_, i) => ({ name: `ui-rule-${i}`, comments: `foreign ${i}`, actionValue: 'DROP' as const, direction: 'IN' as const })),
    );

    operator = spawn(
      process.execPath,
      [
        'src/main.ts',
        `--kubeconfig=${cp.kubeconfigPath}`,
        '--leader-elect=false',
        '--probe-port=0',
        '--log-level=warn',
        '--task-timeout=120',
        `--firewall-workers=${E}`,
        `--drift-check=${driftSeconds}`,
        ...(process.env.BENCH_OPERATOR_ARGS ?? '').split(' ').filter(Boolean),
      ],
      { stdio: ['ignore', process.env.BENCH_OPERATOR_LOG ? openSync(process.env.BENCH_OPERATOR_LOG, 'w') : 'ignore', 'inherit'] },
    );
    for (;;) {
      const conn = await kube.get<RuleObj>(VCDConnectionResource, 'acme', ns);
      if (conn.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) break;
      await sleep(100);
    }
    // A watch, not repeated lists, so measuring does not compete with the operator for the CPU;
    // it is started again whenever the apiserver ends it (the replayed ADDED events refill the map).
    let stopped = false;
    const startWatch = async (): Promise<void> => {
      watch = await new Watch(cp.kubeConfig()).watch(
        `/apis/vcd-operator.io/v1alpha1/namespaces/${ns}/edgefirewallrules`,
        {},
        (_type: string, o: RuleObj) => {
          if (o.status?.conditions?.some((k) => k.type === 'Ready' && k.status === 'True')) ready.set(o.metadata?.name ?? '', o.status.ruleId ?? '');
        },
        () => {
          if (!stopped) setTimeout(() => void startWatch().catch(() => undefined), 200);
        },
      );
    };
    await startWatch();
    stopWatch = () => {
      stopped = true;
      watch?.abort();
    };
    const createAll = async (objs: KubeObject[]): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < objs.length) await kube.create(EdgeFirewallRuleResource, objs[next++] as KubeObject);
      };
      await Promise.all(Array.from({ length: 32 }, worker));
    };
    const untilReady = async (names: string[], t0: number): Promise<number> => {
      let lastPrint = 0;
      for (;;) {
        const n = names.filter((x) => ready.has(x)).length;
        if (n === names.length) return (Date.now() - t0) / 1000;
        if (Date.now() - lastPrint > 2000) {
          say(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${n}/${names.length} Ready`);
          lastPrint = Date.now();
        }
        if (Date.now() - t0 > 600_000) throw new Error('not all rules became Ready within 10 minutes');
        await sleep(20);
      }
    };
    // One whole-list write as this simulator serves it: request latency, task, task reads.
    const oneWrite = (latencyMs * 3 + taskMs) / 1000;

    // --- A: R rules at once on one edge ---
    say(`A: ${R} rules on acme-edge (plus ${F} foreign), latency ${latencyMs} ms, tasks ${taskMs} ms`);
    const aNames = Array.from({ length: R }, (_, i) => `a-${String(i).padStart(4, '0')}`);
    let t0 = Date.now();
    await createAll(aNames.map((n, i) => rule(n, 'acme-edge', i, 'gate-a')));
    const createdA = (Date.now() - t0) / 1000;
    await sleep(2000);
    let put0 = calls(PUT_RULES);
    let get0 = calls(GET_RULES);
    t0 = Date.now();
    await openGate(kube, sim.vcd.url, sim.caPem, 'gate-a');
    const secondsA = await untilReady(aNames, t0);
    const putsA = calls(PUT_RULES) - put0;
    const getsA = calls(GET_RULES) - get0;
    const listA = (await vcd.firewall.get(edgeId)).userDefinedRules ?? [];
    const foreignKept = listA.filter((r) => r.name.startsWith('ui-rule-')).length;
    table(
      `Scenario A: ${R} rules at once on one edge (+${F} foreign); timed from their connection's creation (creating the rules took ${createdA.toFixed(1)} s before)`,
      [
        ['whole-list writes', String(putsA), String(R), '1'],
        ['rule list reads', String(getsA), '-', '1'],
        ['time to all Ready', `${secondsA.toFixed(1)} s`, `${(R * oneWrite).toFixed(1)} s`, `${(oneWrite + 0.1).toFixed(1)} s`],
        ['foreign rules kept', `${foreignKept}/${F}`, '-', `${F}/${F}`],
      ],
    );
    console.log(
      `target: <= 3 whole-list writes: ${putsA <= 3 ? 'met' : 'NOT met'}; time <= 2x (one write + reads) = ${(2 * (oneWrite + 0.1)).toFixed(1)} s: ${secondsA <= 2 * (oneWrite + 0.1) ? 'met' : 'NOT met'}`,
    );

    // --- C: one rule changed among R ---
    await sleep(2000);
    const idsBefore = new Map(listA.map((r) => [r.name, r.id]));
    put0 = calls(PUT_RULES);
    t0 = Date.now();
    const victim = aNames[Math.floor(R / 2)] ?? '';
    ready.delete(victim);
    await kube.patch(EdgeFirewallRuleResource, victim, ns, { spec: { action: 'Drop' } });
    for (;;) {
      const list = (await vcd.firewall.get(edgeId)).userDefinedRules ?? [];
      if (list.some((r) => r.name === `${ns}/${victim}` && r.actionValue === 'DROP')) break;
      await sleep(50);
    }
    const secondsC = (Date.now() - t0) / 1000;
    const listC = (await vcd.firewall.get(edgeId)).userDefinedRules ?? [];
    const idsChanged = listC.filter((r) => idsBefore.get(r.name) !== r.id).length;
    const putsC = calls(PUT_RULES) - put0;
    table(`Scenario C: one rule changed among ${R}`, [
      ['whole-list writes', String(putsC), '1', '1'],
      ['rule ids changed', String(idsChanged), '-', '0'],
      ['time to the change in VCD', `${secondsC.toFixed(1)} s`, `${oneWrite.toFixed(1)} s`, `${oneWrite.toFixed(1)} s`],
    ]);

    // --- B: E edges x P rules ---
    say(`B: ${E} edges x ${P} rules`);
    const bNames: string[] = [];
    const bObjs: KubeObject[] = [];
    for (let p = 0; p < P; p++)
      for (let e = 0; e < E; e++) {
        const n = `b-${e}-${p}`;
        bNames.push(n);
        bObjs.push(rule(n, `bench-edge-${e}`, p, 'gate-b'));
      }
    t0 = Date.now();
    await createAll(bObjs);
    const createdB = (Date.now() - t0) / 1000;
    await sleep(2000);
    put0 = calls(PUT_RULES);
    get0 = calls(GET_RULES);
    t0 = Date.now();
    await openGate(kube, sim.vcd.url, sim.caPem, 'gate-b');
    const secondsB = await untilReady(bNames, t0);
    const putsB = calls(PUT_RULES) - put0;
    const getsB = calls(GET_RULES) - get0;
    table(`Scenario B: ${E} edges x ${P} rules at once, timed from their connection's creation (creating the rules took ${createdB.toFixed(1)} s before)`, [
      ['whole-list writes', String(putsB), String(E * P), String(E)],
      ['rule list reads', String(getsB), '-', String(E)],
      ['time to all Ready', `${secondsB.toFixed(1)} s`, `${(P * oneWrite).toFixed(1)} s (edges in parallel)`, `${(oneWrite + 0.1).toFixed(1)} s`],
    ]);
    console.log(`target: time <= 1.5x limit: ${secondsB <= 1.5 * (oneWrite + 0.1) ? 'met' : 'NOT met'} (${(secondsB / (oneWrite + 0.1)).toFixed(1)}x)`);

    // --- D: at rest ---
    await sleep(3000);
    const total = R + E * P;
    const writes0 = sim.admin.audit().filter((e) => !/\/sessions|\/oauth\//.test(e.route)).length;
    get0 = calls(GET_RULES);
    await sleep(idleSeconds * 1000);
    const writesD = sim.admin.audit().filter((e) => !/\/sessions|\/oauth\//.test(e.route)).length - writes0;
    const getsD = calls(GET_RULES) - get0;
    const resyncs = idleSeconds / driftSeconds;
    table(`Scenario D: ${total} Ready rules on ${E + 1} edges at rest for ${idleSeconds} s (drift check every ${driftSeconds} s)`, [
      ['VCD writes', String(writesD), '-', '0'],
      ['rule list reads per edge per resync', (getsD / (E + 1) / resyncs).toFixed(2), '-', '1'],
    ]);
    const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${operator.pid ?? 0}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    console.log(`\noperator peak RSS ${rss.toFixed(0)} MB. One write here = 3 requests x ${latencyMs} ms + a ${taskMs} ms task = ${oneWrite.toFixed(2)} s.`);
    await vcd.close();
  } finally {
    stopWatch();
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
