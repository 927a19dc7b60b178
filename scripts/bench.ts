// `npm run bench`: the operator binary on a local control plane against the simulator, measured.
// N FloatingIPClaims over S IP Spaces, per-request latency, slow tasks, VCD serialising allocate per
// IP Space. Three cases, each in its own namespace with a fresh simulator state and operator:
// - streaming: claims created while the operator runs;
// - backlog: the operator started on claims that already exist, with where the time went;
// - chaos: random 5xx, 429 with Retry-After and responses lost after commit, one SIGKILL and
//   restart of the operator, one restart of the apiserver; then duplicates, leaks and foreign
//   allocations changed are counted.
// Ready is counted with the operator's own supervised informer. The run stops at once, with the
// operator's stderr, when the operator dies, and never runs past --deadline-seconds.
// Options: --claims --spaces --latency-ms --task-ms --idle-seconds --cases --chaos-claims
// --heap-mb, --semi-mb (the operator's --max-old-space-size, --max-semi-space-size)
// --deadline-seconds --heap-snapshot FILE --entry dist|src (dist/main.js as shipped, built first;
// or src/main.ts); --scenario trust runs scripts/bench-trust.ts instead, --scenario events
// scripts/bench-events.ts, --scenario metering scripts/bench-metering.ts, --scenario firewall
// scripts/bench-firewall.ts. BENCH_OPERATOR_ENV adds
// environment variables to the operator ("A=1 B=2"; LOG_LEVEL=debug logs every reconcile);
// BENCH_OPERATOR_ARGS adds flags to the operator's command line ("--vcd-max-in-flight=64");
// BENCH_REST_ROUTES=1 prints the VCD calls made at rest by route and any claim still guarded.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FloatingIPClaimResource, VCDConnectionResource } from '../src/api/index.ts';
import { VcdClient } from '../src/clients/vcd/index.ts';
import { SecretResource } from '../src/controllers/connections/controller.ts';
import { splitDescription } from '../src/reconcile/markers.ts';
import { KubeClient, KubeHttp, type KubeObject, type ResourceType } from '../src/runtime/index.ts';
import { scaleFixture, startSimulator, type RunningSim } from '../src/sim/index.ts';
import { startControlPlane, type ControlPlane } from '../test/harness/controlPlane.ts';
import { formatHeap, summariseHeap } from './lib/heap-summary.ts';
import { OperatorProcess, type MemoryReport } from './lib/bench-operator.ts';
import { ReadyCounter } from './lib/bench-ready.ts';
import { ensureTestBins } from './lib/test-bins.ts';

const markerOf = (description: string) => splitDescription(description).marker;
const ALLOCATE = 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate';
const MARK = 'PUT /cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}';
const TASK = 'GET /api/task/{id}';
const NamespaceResource: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
const OPERATOR_NS = 'vcd-operator-system';

// `--scenario trust` runs the VCenterTrust scenario (scripts/bench-trust.ts) with the other options.
const argv = process.argv.slice(2);
const scenarioAt = argv.findIndex((a) => a === '--scenario' || a.startsWith('--scenario='));
if (scenarioAt >= 0) {
  const scenario = argv[scenarioAt]?.includes('=') ? argv[scenarioAt]?.split('=')[1] : argv[scenarioAt + 1];
  const own: Record<string, string> = { firewall: 'scripts/bench-firewall.ts', events: 'scripts/bench-events.ts', metering: 'scripts/bench-metering.ts' };
  if (scenario !== 'trust' && !(scenario && own[scenario]))
    throw new Error(`unknown --scenario ${scenario ?? ''}: trust, ${Object.keys(own).join(', ')} are the ones there are besides the default`);
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
    'idle-seconds': { type: 'string', default: '40' },
    cases: { type: 'string', default: 'streaming,backlog,chaos' },
    'chaos-claims': { type: 'string' },
    'heap-mb': { type: 'string' },
    'semi-mb': { type: 'string' },
    'deadline-seconds': { type: 'string', default: '1500' },
    'heap-snapshot': { type: 'string' },
    entry: { type: 'string', default: 'dist' },
  },
});
const N = Number(values.claims);
const S = Number(values.spaces);
const latencyMs = Number(values['latency-ms']);
const taskMs = Number(values['task-ms']);
const idleSeconds = Number(values['idle-seconds']);
const cases = values.cases.split(',').map((c) => c.trim());
const chaosClaims = Number(values['chaos-claims'] ?? Math.min(N, 500));
const heapMb = values['heap-mb'] ? Number(values['heap-mb']) : undefined;
const semiMb = values['semi-mb'] ? Number(values['semi-mb']) : undefined;
const deadlineAt = Date.now() + Number(values['deadline-seconds']) * 1000;
for (const c of cases) if (!['streaming', 'backlog', 'chaos'].includes(c)) throw new Error(`unknown case ${c}`);

const say = (line: string): void => console.log(`[bench] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const secs = (ms: number) => (ms / 1000).toFixed(1);
const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

// The bench itself must end: cleanup gets one minute past the deadline, then the process exits.
setTimeout(
  () => {
    console.error(`[bench] global deadline passed ${secs(Date.now() - deadlineAt + 60_000)} s ago and cleanup hangs; exiting`);
    process.exit(3);
  },
  deadlineAt - Date.now() + 60_000,
).unref();

class Stop extends Error {}

interface Claim extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string; reason: string }>; address?: string; allocationId?: string };
}

interface Env {
  cp: ControlPlane;
  sim: RunningSim;
  kube: KubeClient;
  logDir: string;
  clusterId: string;
}

/** Waits until `done()` or the operator dies or the global deadline passes, printing progress. */
async function waitUntil(what: string, done: () => boolean, op: OperatorProcess | undefined, progress?: () => string): Promise<void> {
  let lastPrint = Date.now();
  while (!done()) {
    if (Date.now() > deadlineAt)
      throw new Stop(`global deadline (--deadline-seconds ${values['deadline-seconds']}) passed while waiting for ${what}${progress ? `: ${progress()}` : ''}`);
    if (progress && Date.now() - lastPrint > 2000) {
      say(progress());
      lastPrint = Date.now();
    }
    await (op ? Promise.race([sleep(50), op.died]) : sleep(50));
  }
}

function vcdCalls(sim: RunningSim): number {
  return sim.admin
    .counters()
    .filter((c) => c.service === 'vcd')
    .reduce((sum, c) => sum + c.count, 0);
}

async function prepareNamespace(env: Env, ns: string): Promise<void> {
  await env.kube.create(NamespaceResource, { metadata: { name: ns } });
  const tenant = env.sim.credentials.tenants.find((t) => t.org === 'acme');
  await env.kube.create(SecretResource, { metadata: { name: 'acme-creds', namespace: ns }, stringData: { apiToken: tenant?.apiToken ?? '' } } as KubeObject);
  await env.kube.create(VCDConnectionResource, {
    metadata: { name: 'acme', namespace: ns },
    spec: { url: env.sim.vcd.url, org: 'acme', credentialsSecretRef: { name: 'acme-creds' }, caBundle: env.sim.caPem },
  } as KubeObject);
}

async function createClaims(env: Env, ns: string, n: number, op?: OperatorProcess): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        try {
          await env.kube.create(FloatingIPClaimResource, {
            metadata: { name: `claim-${i}`, namespace: ns },
            spec: { connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: `scale-ips-${i % S}` } },
          } as KubeObject);
          break;
        } catch (err) {
          // 409: an earlier attempt got through before the apiserver went away (chaos case).
          if ((err as { code?: number }).code === 409) break;
          if (attempt >= 60 || Date.now() > deadlineAt) throw err;
          await sleep(500);
        }
      }
    }
  };
  const all = Promise.all(Array.from({ length: 16 }, worker));
  await (op ? Promise.race([all, op.died]) : all);
}

function startOperator(env: Env, ns: string, taskTimeoutSeconds: number, label: string): OperatorProcess {
  const logFile = join(env.logDir, `operator-${label}.log`);
  const op = new OperatorProcess({
    entry: values.entry === 'src' ? 'src/main.ts' : 'dist/main.js',
    kubeconfigPath: env.cp.kubeconfigPath,
    namespace: ns,
    operatorNamespace: OPERATOR_NS,
    taskTimeoutSeconds,
    logFile,
    ...(heapMb ? { heapMb } : {}),
    ...(semiMb ? { semiMb } : {}),
    extraArgs: (process.env.BENCH_OPERATOR_ARGS ?? '').split(' ').filter(Boolean),
    env: {
      // As the image runs it (Dockerfile).
      MALLOC_ARENA_MAX: '2',
      ...Object.fromEntries(
        (process.env.BENCH_OPERATOR_ENV ?? '')
          .split(' ')
          .filter(Boolean)
          // Split at the first '=' only: a value may hold one (NODE_OPTIONS=--flag=1).
          .map((kv): [string, string] => {
            const at = kv.indexOf('=');
            return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
          }),
      ),
      ...(values['heap-snapshot'] ? { BENCH_HEAP_SNAPSHOT: `${values['heap-snapshot']}-${label}.heapsnapshot` } : {}),
    },
  });
  say(
    `operator (${label}) pid ${op.pid}${heapMb ? `, --max-old-space-size=${heapMb}` : ''}${semiMb ? `, --max-semi-space-size=${semiMb}` : ''}, log ${logFile}`,
  );
  return op;
}

async function connectionReady(env: Env, ns: string, op: OperatorProcess): Promise<void> {
  let ready = false;
  const poll = async () => {
    const conn = await env.kube.get<Claim>(VCDConnectionResource, 'acme', ns).catch(() => undefined);
    ready = !!conn?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  };
  while (!ready) {
    await poll();
    await waitUntil('the connection to become Ready', () => true, op);
    if (!ready) await Promise.race([sleep(100), op.died]);
  }
}

interface RestFigures {
  restPerMin: number;
  /** RSS after idling, before the benchmark forces any GC: what the process holds on its own. */
  idleRssMb: number;
  reduced: MemoryReport;
  anonMb: number;
  fileMb: number;
  mem: MemoryReport;
  heapFile?: string;
}

/** After settling: VCD calls at rest, then a full GC in the operator and its memory. */
async function atRest(env: Env, op: OperatorProcess): Promise<RestFigures> {
  await Promise.race([sleep(5000), op.died]);
  const before = vcdCalls(env.sim);
  const routesBefore = new Map(env.sim.admin.counters().map((c) => [`${c.service} ${c.route}`, c.count]));
  await Promise.race([sleep(idleSeconds * 1000), op.died]);
  if (process.env['BENCH_REST_ROUTES']) {
    const diff = env.sim.admin.counters().flatMap((c) => {
      const d = c.count - (routesBefore.get(`${c.service} ${c.route}`) ?? 0);
      return d ? [`${c.route}: ${d}`] : [];
    });
    say(`calls at rest by route: ${diff.join(', ')}`);
    const { items } = await env.kube.list<Claim>(FloatingIPClaimResource, {});
    const guarded = items.filter((c) => c.metadata?.annotations?.['vcd-operator.io/create-pending']);
    say(
      `claims still guarded at rest: ${guarded.length}: ${JSON.stringify(guarded.slice(0, 3).map((c) => ({ n: c.metadata?.name, a: c.metadata?.annotations, s: c.status })))}`,
    );
  }
  const restPerMin = ((vcdCalls(env.sim) - before) * 60) / idleSeconds;
  const idleRssMb = op.rssMb().now;
  const { mem, reduced, heapFile } = await op.memoryAfterGc();
  return { restPerMin, idleRssMb, mem, reduced, anonMb: mem.anonMb ?? 0, fileMb: mem.fileMb ?? 0, ...(heapFile ? { heapFile } : {}) };
}

function table(title: string, rows: Array<[string, string, string, string]>): void {
  const w = [26, 34, 16, 12];
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i] ?? 10)).join(' | ') + ' |';
  console.log(`\n${title}`);
  console.log(line(['metric', 'measured', 'naive baseline', 'limit']));
  console.log(line(w.map((n) => '-'.repeat(n))));
  for (const r of rows) console.log(line(r));
}

function limits(n: number) {
  const perSpace = Math.ceil(n / S);
  return {
    naiveSeconds: (perSpace * taskMs) / 1000,
    limitSeconds: (Math.ceil(perSpace / 5) * taskMs) / 1000,
    limitTasks: S * Math.ceil(perSpace / 5),
  };
}

function commonRows(
  env: Env,
  n: number,
  seconds: number,
  op: OperatorProcess,
  callsBefore: number,
  tasksBefore: number,
  cpuBefore: number,
  peakMb: number,
  rest: RestFigures,
): Array<[string, string, string, string]> {
  const { naiveSeconds, limitSeconds, limitTasks } = limits(n);
  const calls = vcdCalls(env.sim) - callsBefore;
  const tasks = env.sim.admin.callCount(ALLOCATE) - tasksBefore;
  const cpu = op.cpuSeconds() - cpuBefore;
  return [
    ['allocate tasks', `${tasks} (${(tasks / limitTasks).toFixed(2)}x limit)`, String(n), String(limitTasks)],
    ['VCD calls per claim', (calls / n).toFixed(2), '4.00', (2 / 5 + 2).toFixed(2)],
    ['VCD calls/min at rest', rest.restPerMin.toFixed(1), '-', '0'],
    ['operator RSS peak', `${peakMb.toFixed(0)} MB`, '-', '-'],
    ['operator at rest, idle', `RSS ${rest.idleRssMb.toFixed(0)} MB after ${idleSeconds + 5} s idle, no forced GC`, '-', '150 MB'],
    ['operator at rest after GC', `RSS ${mb(rest.mem.rss)} MB, heap used ${mb(rest.mem.heapUsed)} MB`, '-', '-'],
    [
      '  of which',
      `heap total ${mb(rest.mem.heapTotal)} MB, external ${mb(rest.mem.external)} MB (buffers ${mb(rest.mem.arrayBuffers)} MB); RSS anonymous ${rest.anonMb.toFixed(0)} MB, file-backed ${rest.fileMb.toFixed(0)} MB`,
      '-',
      '-',
    ],
    [
      'at rest, memory-reducing GC',
      `RSS ${mb(rest.reduced.rss)} MB (anonymous ${(rest.reduced.anonMb ?? 0).toFixed(0)} MB), heap total ${mb(rest.reduced.heapTotal)} MB`,
      '-',
      '-',
    ],
    ['operator CPU', `${cpu.toFixed(1)} s (${((cpu / seconds) * 100).toFixed(0)}% of a core)`, '-', '-'],
    ['', `naive ${naiveSeconds.toFixed(1)} s, limit ${limitSeconds.toFixed(1)} s`, '', ''],
  ];
}

function printHeap(rest: RestFigures): void {
  if (!rest.heapFile) return;
  try {
    console.log(formatHeap(summariseHeap(rest.heapFile)));
  } catch (err) {
    say(`could not summarise ${rest.heapFile}: ${(err as Error).message} (run scripts/lib/heap-summary.ts on it with a larger heap)`);
  }
}

async function streaming(env: Env): Promise<void> {
  const ns = 'bench-streaming';
  env.sim.admin.reset();
  await prepareNamespace(env, ns);
  const counter = new ReadyCounter(env.kube, ns);
  await counter.start();
  const op = startOperator(env, ns, 120, 'streaming');
  try {
    await connectionReady(env, ns, op);
    say(
      `streaming: ${N} FloatingIPClaims over ${S} IP Spaces created while the operator runs; latency ${latencyMs} ms, tasks ${taskMs} ms, allocate serialised per IP Space`,
    );
    const [callsBefore, tasksBefore, cpuBefore] = [vcdCalls(env.sim), env.sim.admin.callCount(ALLOCATE), op.cpuSeconds()];
    const t0 = Date.now();
    await createClaims(env, ns, N, op);
    const created = Date.now();
    say(`created ${N} claims in ${secs(created - t0)} s`);
    await waitUntil(
      'all claims Ready',
      () => counter.ready >= N,
      op,
      () => `${secs(Date.now() - t0)} s: ${counter.ready}/${N} Ready`,
    );
    const done = counter.lastReadyAt;
    say(`${secs(done - t0)} s: ${N}/${N} Ready`);
    const peak = op.rssMb().peak;
    const rest = await atRest(env, op);
    const seconds = (done - t0) / 1000;
    table(`Streaming case: ${N} claims over ${S} IP Spaces, created while the operator runs`, [
      ['time to all Ready', `${seconds.toFixed(1)} s from first create`, `${limits(N).naiveSeconds.toFixed(1)} s`, `${limits(N).limitSeconds.toFixed(1)} s`],
      ['after the last create', `${secs(done - created)} s (creating took ${secs(created - t0)} s)`, '-', '-'],
      ...commonRows(env, N, seconds, op, callsBefore, tasksBefore, cpuBefore, peak, rest),
    ]);
    printHeap(rest);
  } finally {
    await op.stop();
    await counter.stop();
  }
}

interface LogLine {
  time: string;
  msg: string;
  [k: string]: unknown;
}

function readLog(file: string): LogLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function backlog(env: Env): Promise<void> {
  const ns = 'bench-backlog';
  env.sim.admin.reset();
  await prepareNamespace(env, ns);
  const counter = new ReadyCounter(env.kube, ns);
  await counter.start();
  const c0 = Date.now();
  await createClaims(env, ns, N);
  say(`backlog: created ${N} claims with no operator running in ${secs(Date.now() - c0)} s`);
  await waitUntil('the counter to see every claim', () => counter.total >= N, undefined);
  const auditFrom = env.sim.admin.audit().at(-1)?.seq ?? 0;
  const op = startOperator(env, ns, 120, 'backlog');
  const t0 = op.spawnedAt;
  try {
    await waitUntil(
      'all claims Ready',
      () => counter.ready >= N,
      op,
      () => `${secs(Date.now() - t0)} s: ${counter.ready}/${N} Ready`,
    );
    const done = counter.lastReadyAt;
    say(`${secs(done - t0)} s from operator start: ${N}/${N} Ready`);
    const peak = op.rssMb().peak;
    const seconds = (done - t0) / 1000;
    const { limitSeconds } = limits(N);

    // Where the time went, from the operator's log, the simulator's audit and the Ready count.
    const log = readLog(join(env.logDir, 'operator-backlog.log'));
    const at = (msg: string) => {
      const l = log.find((x) => x.msg === msg);
      return l ? Date.parse(l.time) - t0 : NaN;
    };
    const allocCalls = env.sim.admin.audit(auditFrom).filter((e) => e.route === ALLOCATE);
    // Accepted allocates start a task; refused ones (BUSY_ENTITY while the IP Space's task runs) do not.
    const allocs = allocCalls.filter((e) => e.status === 202).map((e) => ({ t: Date.parse(e.at) - t0, space: e.path.split('/')[4] ?? '' }));
    const refused = allocCalls.length - allocs.length;
    if (process.env.BENCH_TIMELINE)
      writeFileSync(
        join(env.logDir, 'allocate-timeline.json'),
        JSON.stringify(allocCalls.map((e) => ({ t: Date.parse(e.at) - t0, space: e.path.split('/')[4], status: e.status }))),
      );
    const bySpace = new Map<string, number[]>();
    for (const a of allocs) bySpace.set(a.space, [...(bySpace.get(a.space) ?? []), a.t]);
    // With allocate serialised per IP Space, a space is idle between one task's end and the next allocate.
    const idle: number[] = [];
    const firstPerSpace: number[] = [];
    const lastEndPerSpace: number[] = [];
    for (const ts of bySpace.values()) {
      ts.sort((a, b) => a - b);
      firstPerSpace.push(ts[0] ?? 0);
      lastEndPerSpace.push((ts.at(-1) ?? 0) + taskMs);
      let gap = 0;
      for (let i = 1; i < ts.length; i++) gap += Math.max(0, (ts[i] ?? 0) - ((ts[i - 1] ?? 0) + taskMs + latencyMs));
      idle.push(gap);
    }
    const audit = env.sim.admin.audit(auditFrom);
    const marks = audit.filter((e) => e.route === MARK);
    const lastMark = Math.max(...marks.map((e) => Date.parse(e.at) - t0));
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const rest = await atRest(env, op);
    table(`Backlog case: ${N} claims over ${S} IP Spaces exist before the operator starts`, [
      [
        'time to all Ready',
        `${seconds.toFixed(1)} s from operator start (${(seconds / limitSeconds).toFixed(2)}x limit)`,
        `${limits(N).naiveSeconds.toFixed(1)} s`,
        `${limitSeconds.toFixed(1)} s`,
      ],
      ...commonRows(env, N, seconds, op, 0, 0, 0, peak, rest),
    ]);
    console.log(
      [
        `\nwhere the backlog time went (ms from spawning the operator):`,
        `  node start-up and module load  ${at('vcd-operator starting').toFixed(0)}`,
        `  informers listed and synced     ${at('manager started').toFixed(0)}`,
        `  logged in to VCD                ${at('logged in to VCD').toFixed(0)}`,
        `  first allocate                  ${Math.min(...firstPerSpace).toFixed(0)} (last IP Space's first: ${Math.max(...firstPerSpace).toFixed(0)})`,
        `  last allocate task ends         ${Math.max(...lastEndPerSpace).toFixed(0)}`,
        `  last allocation marked          ${lastMark.toFixed(0)}`,
        `  all Ready                       ${(done - t0).toFixed(0)}`,
        `  allocate calls ${allocCalls.length} (${refused} refused busy); per IP Space idle between tasks (batching gaps): mean ${avg(idle).toFixed(0)} ms, max ${Math.max(...idle).toFixed(0)} ms`,
        `  the limit ${(limitSeconds * 1000).toFixed(0)} ms is ${Math.ceil(N / S / 5)} back-to-back tasks per IP Space from time 0`,
      ].join('\n'),
    );
    printHeap(rest);
  } finally {
    await op.stop();
    await counter.stop();
  }
}

interface Alloc {
  id: string;
  value: string;
  usageState: string;
  description: string;
  space: string;
}

function allocations(sim: RunningSim): Alloc[] {
  return sim.admin
    .state()
    .vcd.ipSpaces.flatMap((s) => s.allocations.map((a) => ({ id: a.id, value: a.value, usageState: a.usageState, description: a.description, space: s.name })));
}

async function chaos(env: Env): Promise<void> {
  const ns = 'bench-chaos';
  const n = chaosClaims;
  const taskTimeout = 20;
  env.sim.admin.reset();
  // Someone else's allocations in the same IP Spaces: they must come out of the run unchanged.
  const acme = env.sim.credentials.tenants.find((t) => t.org === 'acme');
  const other = await VcdClient.connect({ url: env.sim.vcd.url, org: 'acme', auth: { apiToken: acme?.apiToken ?? '' }, caPem: env.sim.caPem });
  for (let i = 0; i < Math.min(S, 3); i++) {
    const space = await other.ipSpaces.findByName(`scale-ips-${i}`);
    if (!space?.id) continue;
    const [mine] = await other.ipSpaces.allocate(space.id, { type: 'FLOATING_IP', quantity: 1 });
    if (mine)
      await other.ipSpaces.allocations.put(space.id, mine.id, {
        type: 'FLOATING_IP',
        value: mine.value,
        usageState: 'USED_MANUAL',
        description: `load balancer of team ${i}`,
      });
    await other.ipSpaces.allocate(space.id, { type: 'FLOATING_IP', quantity: 1 }); // left USED, no description
  }
  await other.close();
  const foreignBefore = new Map(allocations(env.sim).map((a) => [a.id, JSON.stringify(a)]));

  await prepareNamespace(env, ns);
  const counter = new ReadyCounter(env.kube, ns);
  await counter.start();
  let op = startOperator(env, ns, taskTimeout, 'chaos-1');
  let faults = 0;
  let injecting = true;
  const kinds = [
    { route: ALLOCATE, kind: 'status', status: 503 },
    { route: ALLOCATE, kind: 'status', status: 429, retryAfterSeconds: 1 },
    { route: ALLOCATE, kind: 'drop-after-commit' },
    { route: MARK, kind: 'status', status: 500 },
    { route: MARK, kind: 'status', status: 429, retryAfterSeconds: 1 },
    { route: MARK, kind: 'drop-after-commit' },
    { route: TASK, kind: 'status', status: 502 },
    { route: TASK, kind: 'status', status: 429, retryAfterSeconds: 1 },
  ] as const;
  const injector = (async () => {
    while (injecting) {
      const k = kinds[Math.floor(Math.random() * kinds.length)] ?? kinds[0];
      env.sim.admin.addFault({ ...k, service: 'vcd', times: 1 });
      faults++;
      await sleep(400);
    }
  })();
  const t0 = Date.now();
  let killedAt: number;
  let apiserverRestart: string;
  try {
    await connectionReady(env, ns, op);
    say(`chaos: ${n} claims over ${S} IP Spaces, a fault every 400 ms, --task-timeout=${taskTimeout}`);
    const creating = createClaims(env, ns, n);
    creating.catch(() => undefined);
    await waitUntil(
      '30% of the claims Ready before the SIGKILL',
      () => counter.ready >= n * 0.3,
      op,
      () => `${secs(Date.now() - t0)} s: ${counter.ready}/${n} Ready`,
    );
    await op.kill();
    killedAt = Date.now();
    say(`${secs(killedAt - t0)} s: SIGKILLed the operator at ${counter.ready}/${n} Ready; restarting it`);
    op = startOperator(env, ns, taskTimeout, 'chaos-2');
    await waitUntil(
      '60% of the claims Ready before the apiserver restart',
      () => counter.ready >= n * 0.6,
      op,
      () => `${secs(Date.now() - t0)} s: ${counter.ready}/${n} Ready`,
    );
    const a0 = Date.now();
    await env.cp.stopApiserver();
    await sleep(2000);
    await env.cp.startApiserver();
    apiserverRestart = `${secs(a0 - t0)} s: apiserver stopped at ${counter.ready}/${n} Ready, back after ${secs(Date.now() - a0)} s`;
    say(apiserverRestart);
    await creating;
    injecting = false;
    await injector;
    say(`${secs(Date.now() - t0)} s: all ${n} claims created; ${faults} faults injected; fault injection stopped`);
    await waitUntil(
      'all claims Ready after the chaos',
      () => counter.ready >= n,
      op,
      () => `${secs(Date.now() - t0)} s: ${counter.ready}/${n} Ready`,
    );
    const converged = counter.lastReadyAt;
    // Let in-flight marks and status writes finish before judging the cloud.
    await Promise.race([sleep(5000), op.died]);

    const judge = async () => {
      const claims = (await env.kube.list<Claim>(FloatingIPClaimResource, { namespace: ns })).items;
      const uids = new Set(claims.map((c) => c.metadata?.uid ?? ''));
      const after = allocations(env.sim);
      const mine = after.filter((a) => markerOf(a.description)?.clusterId === env.clusterId);
      const perClaim = new Map<string, number>();
      for (const a of mine) {
        const uid = markerOf(a.description)?.uid ?? '';
        perClaim.set(uid, (perClaim.get(uid) ?? 0) + 1);
      }
      const afterById = new Map(after.map((a) => [a.id, JSON.stringify(a)]));
      return {
        duplicates: [...perClaim.values()].filter((c) => c > 1).reduce((sum, c) => sum + c - 1, 0),
        orphans: mine.filter((a) => !uids.has(markerOf(a.description)?.uid ?? '')).length,
        unmarkedNew: after.filter((a) => !foreignBefore.has(a.id) && !markerOf(a.description)).length,
        changed: [...foreignBefore].filter(([id, json]) => afterById.get(id) !== json).map(([id, json]) => `${json} -> ${afterById.get(id) ?? '(released)'}`),
        mismatched: claims.filter((c) => {
          const a = mine.find((x) => x.id === c.status?.allocationId);
          return !a || a.value !== c.status?.address || markerOf(a.description)?.uid !== c.metadata?.uid;
        }).length,
      };
    };
    const atConvergence = await judge();
    // Allocations whose answer was lost are resolved once their pending window has passed (task
    // deadline + 1 min); wait that long, at most, for them to be adopted or released.
    let final = atConvergence;
    const sweepBy = Date.now() + (taskTimeout + 75) * 1000;
    while ((final.orphans > 0 || final.unmarkedNew > 0) && Date.now() < sweepBy && Date.now() < deadlineAt) {
      await Promise.race([sleep(5000), op.died]);
      final = await judge();
    }
    const sweptAfter = secs(Date.now() - counter.lastReadyAt);
    for (const c of final.changed) say(`foreign allocation changed: ${c}`);
    const { duplicates, orphans, unmarkedNew, mismatched } = final;
    const foreignChanged = final.changed.length;
    table(`Chaos case: ${n} claims; random 5xx, 429 + Retry-After and lost responses, one SIGKILL, one apiserver restart`, [
      ['time to converge', `${secs(converged - t0)} s from the first create`, '-', '-'],
      ['faults injected', String(faults), '-', '-'],
      ['duplicates', String(duplicates), '-', '0'],
      [
        'leaks at convergence',
        `${atConvergence.orphans + atConvergence.unmarkedNew} (${atConvergence.orphans} marked for no claim, ${atConvergence.unmarkedNew} unmarked)`,
        '-',
        '-',
      ],
      ['leaks', `${orphans + unmarkedNew} (${orphans} marked for no claim, ${unmarkedNew} unmarked), ${sweptAfter} s after convergence`, '-', '0'],
      ['foreign allocations changed', `${foreignChanged} of ${foreignBefore.size}`, '-', '0'],
      ['claims not matching VCD', String(mismatched), '-', '0'],
    ]);
    say(`SIGKILL at ${secs(killedAt - t0)} s; ${apiserverRestart}`);
  } finally {
    injecting = false;
    await injector.catch(() => undefined);
    env.sim.admin.clearFaults();
    await op.stop();
    await counter.stop();
  }
}

async function main(): Promise<void> {
  await ensureTestBins(say);
  if (values.entry !== 'src') {
    // The operator as shipped: one bundled module, no type stripping at load.
    say('building dist/ (npm run build)');
    execFileSync(process.execPath, ['scripts/build.ts'], { stdio: 'inherit' });
  }
  const cp = await startControlPlane({ log: say });
  let sim: RunningSim | undefined;
  try {
    sim = await startSimulator({ fixture: scaleFixture(S), knobs: { latencyMs, taskDurationMs: taskMs, serializeIpSpaces: true } });
    const kube = new KubeClient(new KubeHttp(cp.kubeConfig()));
    await kube.create(NamespaceResource, { metadata: { name: OPERATOR_NS } });
    const clusterId = (await kube.get<KubeObject>(NamespaceResource, 'kube-system')).metadata?.uid ?? '';
    const env: Env = { cp, sim, kube, logDir: mkdtempSync(join(tmpdir(), 'vcd-operator-bench-')), clusterId };
    for (const c of cases) {
      if (c === 'streaming') await streaming(env);
      if (c === 'backlog') await backlog(env);
      if (c === 'chaos') await chaos(env);
    }
    say('done');
  } finally {
    await sim?.stop();
    await cp.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] stopped: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
