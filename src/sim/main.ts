// `npm run sim`: starts the simulator on loopback HTTPS and prints how to reach it.
// Options: --fixture <path>, --latency-ms <n>, --task-ms <n>, --vcd-port <n>, --nsx-port <n>,
// --ca-file <path>. Runs until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startSimulator, type StartSimulatorOptions } from './index.ts';

const { values } = parseArgs({
  options: {
    fixture: { type: 'string' },
    'latency-ms': { type: 'string' },
    'task-ms': { type: 'string' },
    'vcd-port': { type: 'string' },
    'nsx-port': { type: 'string' },
    'ca-file': { type: 'string' },
  },
});

const num = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};

const opts: StartSimulatorOptions = { knobs: {}, ports: {} };
if (values.fixture) opts.fixture = values.fixture;
if (values['ca-file']) opts.caFile = values['ca-file'];
const latency = num(values['latency-ms'], 'latency-ms');
const task = num(values['task-ms'], 'task-ms');
if (latency !== undefined) opts.knobs = { ...opts.knobs, latencyMs: latency };
if (task !== undefined) opts.knobs = { ...opts.knobs, taskDurationMs: task };
const vcdPort = num(values['vcd-port'], 'vcd-port');
const nsxPort = num(values['nsx-port'], 'nsx-port');
if (vcdPort !== undefined) opts.ports = { ...opts.ports, vcd: vcdPort };
if (nsxPort !== undefined) opts.ports = { ...opts.ports, nsx: nsxPort };

const sim = await startSimulator(opts);
const lines = [
  'vcd-operator simulator is running (loopback only; these credentials are for this simulator).',
  `  VCD      ${sim.vcd.url}   (CloudAPI under /cloudapi, versions at /api/versions)`,
  `  NSX      ${sim.nsx.url}   user ${sim.nsx.username} / ${sim.nsx.password}`,
  ...sim.vcenters.map((v) => `  vCenter  ${v.name}  ${v.url}   user ${v.username} / ${v.password}`),
  `  CA file  ${sim.caFile}   (trust anchor for VCD and NSX)`,
  `  Admin    ${sim.vcd.url}/admin/state   Authorization: Bearer ${sim.adminToken}`,
  `  Provider ${sim.credentials.provider.username}@${sim.credentials.provider.org} / ${sim.credentials.provider.password}   API token ${sim.credentials.provider.apiToken}`,
  ...sim.credentials.tenants.map((t) => `  Tenant   ${t.username}@${t.org} / ${t.password}   API token ${t.apiToken}`),
  'Press Ctrl-C to stop.',
];
console.log(lines.join('\n'));

const stop = (): void => {
  sim.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
