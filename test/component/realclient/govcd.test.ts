// The real-client tier: VMware's go-vcloud-director (the SDK under terraform-provider-vcd), at
// v2.26.1 and v3.0.0, drives the simulator through login, navigation, IP Spaces, uplinks, org
// assignments, allocations, firewall groups, port profiles, the edge firewall, static routes and
// logout. The Go program (test/realclient) prints one PASS/FAIL line per step; each step is a test
// here, so a failure names the step and carries govcd's own error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';

const BUILD_SCRIPT = fileURLToPath(new URL('../../../scripts/realclient-bins.sh', import.meta.url));

/** Every step the program runs, in order; a test below checks the program ran exactly these. */
const STEPS = [
  'login/provider-password',
  'login/provider-wrong-password-refused',
  'login/tenant-password',
  'login/tenant-wrong-password-refused',
  'login/provider-api-token',
  'login/tenant-api-token',
  'login/wrong-api-token-refused',
  'org/provider-get-org-by-name',
  'org/provider-get-admin-org-by-name',
  'org/tenant-get-org-and-vdc-by-name',
  'org/tenant-cannot-see-other-org',
  'org/api-token-clients-navigate',
  'org/tenant-edge-gateway-by-name',
  'org/provider-gateway-by-name',
  'legacy/vcd-version',
  'legacy/errors-are-xml',
  'ipspace/create',
  'ipspace/get-by-name-and-id',
  'ipspace/update',
  'ipspace/route-advertisement-tasks-awaited',
  'uplink/create',
  'uplink/list-get-update',
  'query/route-advertisement-tasks',
  'orgassignment/get-and-custom-quota',
  'allocation/floating-ip-quantity',
  'allocation/ip-prefix-quantity',
  'allocation/floating-ip-value',
  'allocation/provider-for-tenant',
  'allocation/list-find-update-release',
  'query/tenant-tasks',
  'allocation/release-all',
  'allocation/floating-ip-suggestions',
  'firewallgroup/ip-set-crud',
  'portprofile/tenant-crud',
  'firewall/rules-typed',
  'firewall/applied-to-generic-openapi',
  'firewall/delete-all-rules',
  'firewallgroup-portprofile/delete',
  'staticroute/create',
  'staticroute/list-and-get',
  'staticroute/update-without-version',
  'staticroute/delete',
  'uplink/delete',
  'ipspace/delete',
  'logout/provider-password',
  'logout/tenant-password',
  'logout/provider-api-token',
  'logout/tenant-api-token',
] as const;

interface StepLine {
  result: 'PASS' | 'FAIL';
  detail: string;
}

interface Run {
  steps: Map<string, StepLine>;
  order: string[];
  info: string[];
  exitCode: number;
  stderr: string;
}

/** Builds (or finds cached) the two binaries; a missing Go fails loudly with the script's hint. */
function buildBinaries(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [BUILD_SCRIPT], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as { code?: unknown }).code;
        const why = code === 3 ? 'Go is not installed' : `the build failed (exit ${String(code)})`;
        reject(new Error(`real-client tier: ${why}. ${stderr.trim()}`));
        return;
      }
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (!dir) reject(new Error(`real-client tier: the build printed no directory. ${stderr.trim()}`));
      else resolve(dir);
    });
  });
}

/** Runs one binary against the simulator (asynchronously: the simulator serves from this process). */
function runClient(bin: string, sim: RunningSim, prefix: string): Promise<Run> {
  const tenant = sim.credentials.tenants.find((t) => t.org === 'acme');
  if (!tenant) throw new Error('the default fixture has no acme tenant');
  const env = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    RC_PROVIDER_PASSWORD: sim.credentials.provider.password,
    RC_PROVIDER_TOKEN: sim.credentials.provider.apiToken,
    RC_TENANT_PASSWORD: tenant.password,
    RC_TENANT_TOKEN: tenant.apiToken,
  };
  const args = [
    '-url',
    sim.vcd.url,
    '-ca',
    sim.caFile,
    '-provider-user',
    'administrator',
    '-tenant-org',
    'acme',
    '-tenant-user',
    tenant.username,
    '-prefix',
    prefix,
  ];
  return new Promise((resolve) => {
    execFile(bin, args, { env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const steps = new Map<string, StepLine>();
      const order: string[] = [];
      const info: string[] = [];
      for (const line of stdout.split('\n')) {
        const m = /^(PASS|FAIL) (\S+) ?(.*)$/.exec(line);
        if (m) {
          steps.set(m[2] as string, { result: m[1] as 'PASS' | 'FAIL', detail: m[3] ?? '' });
          order.push(m[2] as string);
        } else if (line.startsWith('INFO ')) info.push(line.slice(5));
      }
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ steps, order, info, exitCode: code, stderr });
    });
  });
}

describe('real client: go-vcloud-director against the simulator', function () {
  let binDir = '';

  before(async function () {
    // A cold build downloads govcd from the module proxy and compiles it twice (about a minute on
    // two cores with a warm Go cache); later runs find the binaries cached.
    this.timeout(20 * 60_000);
    binDir = await buildBinaries();
  });

  for (const [label, module] of [
    ['v2.26.1', 'github.com/vmware/go-vcloud-director/v2@v2.26.1'],
    ['v3.0.0', 'github.com/vmware/go-vcloud-director/v3@v3.0.0'],
  ] as const) {
    describe(`govcd ${label}`, () => {
      let sim: RunningSim | undefined;
      let run: Run;

      before(async function () {
        this.timeout(5 * 60_000);
        // Tasks end at once so govcd's 3 s task polling does not dominate; the route advertisement
        // sync keeps its default duration, so govcd's wait for it is exercised.
        sim = await startSimulator({ knobs: { taskDurationMs: 0 } });
        run = await runClient(join(binDir, label.startsWith('v2') ? 'govcd-v2' : 'govcd-v3'), sim, `rc-${label}`);
      });
      after(async () => {
        await sim?.stop();
      });

      it(`is built against ${module}`, () => {
        assert.deepEqual(run.info, [`govcd ${module}`], run.stderr);
      });

      for (const step of STEPS) {
        it(step, () => {
          const line = run.steps.get(step);
          assert.ok(line, `the program did not report step ${step} (exit ${run.exitCode}): ${run.stderr.slice(0, 2000)}`);
          assert.equal(line.result, 'PASS', `${step}: ${line.detail}`);
        });
      }

      it('runs exactly the listed steps, in order, and exits 0', () => {
        assert.deepEqual(run.order, [...STEPS]);
        assert.equal(run.exitCode, 0, run.stderr.slice(0, 2000));
      });
    });
  }
});
