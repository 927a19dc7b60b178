// Two managers as separate OS processes sharing one Lease: one leads; SIGKILL hands over after
// the lease expires, SIGTERM at once (the lease is released); a standby never reconciles.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { controlPlane, freshNamespace } from '../../harness/shared.ts';
import { KubeClient, KubeHttp, type KubeObject, type ResourceType } from '../../../src/runtime/index.ts';

const helper = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'manager-process.ts');
const configMaps: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const LEASE_MS = 3000;
const RETRY_MS = 500;

interface Replica {
  name: string;
  child: ChildProcess;
  lines: Array<{ at: number; text: string }>;
  exited: Promise<number | null>;
  waitFor(text: string | RegExp, timeoutMs: number): Promise<number>;
}

function launch(ns: string, name: string): Replica {
  const child = spawn(process.execPath, [helper, controlPlane().kubeconfigPath, ns, name], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LEASE_MS: String(LEASE_MS), RENEW_MS: '2000', RETRY_MS: String(RETRY_MS) },
  });
  const lines: Replica['lines'] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (text) => {
    lines.push({ at: Date.now(), text });
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = (text: string | RegExp, timeoutMs: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const match = (): boolean => {
        const hit = lines.find((l) => (typeof text === 'string' ? l.text === text : text.test(l.text)));
        if (!hit) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(hit.at);
        return true;
      };
      const check = (): void => void match();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${name}: no "${String(text)}" within ${timeoutMs} ms; stdout: ${JSON.stringify(lines)}; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      if (!match()) waiters.add(check);
    });
  return { name, child, lines, exited, waitFor };
}

async function readyz(r: Replica): Promise<{ status: number; body: string }> {
  const port = r.lines.find((l) => l.text.startsWith('probes '))?.text.split(' ')[1];
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

describe('leader election across processes', function () {
  this.timeout(90_000);
  let ns: string;
  const replicas: Replica[] = [];

  beforeEach(async function () {
    ns = await freshNamespace('le');
  });
  afterEach(async function () {
    for (const r of replicas.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        r.child.kill('SIGKILL');
        await r.exited;
      }
    }
  });

  it('one leads and only it reconciles; SIGKILL hands over within the lease duration; SIGTERM hands over at once', async function () {
    const client = new KubeClient(new KubeHttp(controlPlane().kubeConfig()));
    await client.create(configMaps, { metadata: { name: 'cm1', namespace: ns } });

    const a = launch(ns, 'a');
    replicas.push(a);
    await a.waitFor('leading', 20_000);
    await a.waitFor(`reconcile ${ns}/cm1`, 10_000);
    const b = launch(ns, 'b');
    replicas.push(b);
    await b.waitFor('standby', 20_000);
    await client.create(configMaps, { metadata: { name: 'cm2', namespace: ns } });
    await a.waitFor(`reconcile ${ns}/cm2`, 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      b.lines.filter((l) => l.text.startsWith('reconcile')),
      [],
      'the standby reconciled nothing',
    );
    assert.deepEqual(await readyz(a), { status: 200, body: 'leader' });
    assert.deepEqual(await readyz(b), { status: 200, body: 'standby' }, 'a hot standby is ready');

    // SIGKILL: no release; b must wait for the lease to expire on its clock, then lead.
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    const bLeads = await b.waitFor('leading', LEASE_MS * 3);
    const killTakeover = bLeads - killedAt;
    await b.waitFor(`reconcile ${ns}/cm2`, 10_000);

    const c = launch(ns, 'c');
    replicas.push(c);
    await c.waitFor('standby', 20_000);
    // SIGTERM: b drains, releases the lease and exits 0; c leads at its next retry.
    const termAt = Date.now();
    b.child.kill('SIGTERM');
    const cLeads = await c.waitFor('leading', LEASE_MS * 3);
    const termTakeover = cLeads - termAt;
    assert.equal(await b.exited, 0);
    console.log(`      takeover after SIGKILL: ${killTakeover} ms (lease ${LEASE_MS} ms); after SIGTERM: ${termTakeover} ms (retry ${RETRY_MS} ms)`);

    // The lease must have expired: a's last renewal was at most one retry period before the kill.
    assert.ok(killTakeover >= LEASE_MS - RETRY_MS, `b took over after ${killTakeover} ms, before a's lease could expire`);
    assert.ok(killTakeover <= LEASE_MS + 1.2 * RETRY_MS + 1500, `b took ${killTakeover} ms to take over`);
    assert.ok(termTakeover < LEASE_MS / 2, `c took ${termTakeover} ms after SIGTERM; a released lease is taken at once`);
    const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string; leaseTransitions?: number } }>(
      { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
      'runtime-test',
      ns,
    );
    assert.equal(lease.spec?.holderIdentity, 'c');
    assert.equal(lease.spec?.leaseTransitions, 2);
  });
});
