// The chart installed by helm into a control plane of its own (no CRDs until the chart brings
// them), then the operator started as the chart's Deployment runs it: the image's ENTRYPOINT
// (test/harness/image.ts replays the Dockerfile), the container's args and env from the release
// manifest, and the chart's ServiceAccount token from TokenRequest. Its RBAC must be enough to
// bring examples/ to Ready against the simulator, and no more (kubectl auth can-i as that account).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KubeClient, KubeHttp, type KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import { bindToSimulator, createAll, loadExamples, resourceOf } from '../../../scripts/lib/examples.ts';
import { startControlPlane, type ControlPlane } from '../../harness/controlPlane.ts';
import { imageTree } from '../../harness/image.ts';
import { hasReason, isReady, readyOf, waitFor } from '../../harness/operator.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const chart = join(root, 'charts', 'vcd-operator');
const RELEASE = 'vcd-operator';
const NS = 'vcd-operator-system';

interface Container {
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('helm install, the operator as its Deployment runs it, upgrade, uninstall', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let sim: RunningSim;
  let work: string;
  let operator: ChildProcess | undefined;
  let operatorLog = '';
  let saKubeconfig = '';

  const helm = (...args: string[]): string => {
    const res = spawnSync(cp.assets.helm ?? 'helm', [...args, '--kubeconfig', cp.kubeconfigPath], { encoding: 'utf8' });
    assert.equal(res.status, 0, `helm ${args.join(' ')}:\n${res.stdout}${res.stderr}`);
    return res.stdout;
  };
  const kubectl = (...args: string[]): string => execFileSync(cp.assets.kubectl, ['--kubeconfig', cp.kubeconfigPath, ...args], { encoding: 'utf8' });
  /** kubectl auth can-i with the ServiceAccount's own token (a SelfSubjectAccessReview). */
  const can = (...args: string[]): boolean => {
    const res = spawnSync(cp.assets.kubectl, ['--kubeconfig', saKubeconfig, 'auth', 'can-i', ...args], { encoding: 'utf8' });
    if (res.status !== 0 && res.status !== 1) throw new Error(`kubectl auth can-i ${args.join(' ')}: ${res.stderr}`);
    return res.status === 0;
  };
  const admin = (): KubeClient => new KubeClient(new KubeHttp(cp.kubeConfig()));
  const crdNames = (): string[] =>
    kubectl('get', 'crd', '-o', 'name')
      .split('\n')
      .filter((l) => l.endsWith('.vcd-operator.io'))
      .sort();

  before(async function () {
    work = mkdtempSync(join(tmpdir(), 'vcd-operator-helm-'));
    const noCrds = join(work, 'no-crds');
    mkdirSync(noCrds);
    [cp, sim] = await Promise.all([startControlPlane({ crdDir: noCrds }), startSimulator({ knobs: { taskDurationMs: 30 } })]);
    assert.ok(cp.assets.helm, 'helm is built by npm run test-bins');
  });

  after(async function () {
    operator?.kill('SIGKILL');
    await sim?.stop();
    await cp?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs the chart with its CRDs (marked to be kept)', function () {
    assert.deepEqual(crdNames(), []);
    const notes = helm('install', RELEASE, chart, '--namespace', NS, '--create-namespace');
    assert.match(notes, /Create your first connection/);
    assert.match(notes, /kubectl -n NS create secret generic acme-vcd-credentials --from-literal=apiToken=YOUR_TOKEN/);
    assert.doesNotMatch(notes, /rolebinding/, 'no grant needed with cluster-wide Secret access');
    kubectl('wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s');
    assert.equal(crdNames().length, readdirSync(join(root, 'crds')).filter((f) => f.endsWith('.yaml')).length, 'one CRD per file of crds/');
    assert.ok(crdNames().includes('customresourcedefinition.apiextensions.k8s.io/floatingipclaims.vcd-operator.io'));
    const keep = kubectl('get', 'crd', 'floatingipclaims.vcd-operator.io', '-o', 'jsonpath={.metadata.annotations.helm\\.sh/resource-policy}');
    assert.equal(keep, 'keep');
  });

  /**
   * Starts the operator exactly as the release's Deployment declares it (image ENTRYPOINT, the
   * container's args and env; only the probe port is free-picked) with the ServiceAccount token,
   * and waits for /readyz.
   */
  const runOperator = async (): Promise<{ port: number; podName: string; exited: Promise<number | null> }> => {
    const docs = parseAllDocuments(helm('get', 'manifest', RELEASE, '--namespace', NS)).map((d) => d.toJS() as KubeObject & { spec?: unknown });
    const deployment = docs.find((d) => d.kind === 'Deployment') as
      { spec: { template: { spec: { serviceAccountName: string; containers: Container[] } } } } | undefined;
    assert.ok(deployment);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.ok(container);
    const podName = `${RELEASE}-7d9c8b6f5-x2k4q`;
    const env: Record<string, string> = {};
    for (const e of container.env) {
      const path = e.valueFrom?.fieldRef?.fieldPath;
      if (path === 'metadata.namespace') env[e.name] = NS;
      else if (path === 'metadata.name') env[e.name] = podName;
      else if (path === 'spec.serviceAccountName') env[e.name] = pod.serviceAccountName;
      else if (e.value !== undefined) env[e.name] = e.value;
      else throw new Error(`env ${e.name}: the test does not know how to fill ${JSON.stringify(e.valueFrom)}`);
    }
    // The probe port is the only change: a fixed port may be taken on a shared machine.
    const port = await freePort();
    const args = container.args.map((a) => (a.startsWith('--probe-port=') ? `--probe-port=${port}` : a));
    assert.ok(args.length === container.args.length && args.includes(`--probe-port=${port}`));

    if (!saKubeconfig) {
      // In-cluster credentials: the ServiceAccount's token from the TokenRequest API.
      const token = kubectl('create', 'token', pod.serviceAccountName, '--namespace', NS, '--duration=1h').trim();
      saKubeconfig = join(work, 'sa-kubeconfig');
      writeFileSync(
        saKubeconfig,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${cp.server}\n    certificate-authority: ${cp.kubeConfig().getCurrentCluster()?.caFile ?? ''}\nusers:\n- name: sa\n  user:\n    token: ${token}\ncontexts:\n- name: c\n  context: {cluster: c, user: sa}\ncurrent-context: c\n`,
        { mode: 0o600 },
      );
    }
    assert.ok(can('list', 'floatingipclaims.vcd-operator.io', '--all-namespaces'), 'the token authenticates as the ServiceAccount');

    const image = imageTree();
    const [cmd, ...entry] = image.entrypoint;
    assert.equal(cmd, 'node');
    const log = createWriteStream(join(work, 'operator.log'), { flags: 'a' });
    operatorLog = '';
    // KUBECONFIG stands in for the in-cluster config (same server, same token); nothing else is added.
    const proc = spawn(process.execPath, [...entry, ...args], {
      cwd: image.dir,
      env: { PATH: process.env.PATH ?? '', ...env, KUBECONFIG: saKubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    operator = proc;
    const onData = (c: Buffer): void => {
      operatorLog += c.toString();
      log.write(c);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await httpGet(port, '/readyz').catch(() => ({ status: 0, body: '' }));
      if (r.status === 200) break;
      if (proc.exitCode !== null || Date.now() > deadline) assert.fail(`the operator never became ready (${r.status} ${r.body}):\n${operatorLog.slice(-3000)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal((await httpGet(port, '/healthz')).status, 200);
    return { port, podName, exited };
  };

  it('the operator, run as the Deployment runs it with the chart ServiceAccount token, brings examples/ to Ready', async function () {
    const { port, podName, exited } = await runOperator();
    assert.ok(operator);

    const kube = admin();
    const objects = bindToSimulator(loadExamples(join(root, 'examples')), sim);
    await createAll(kube, objects);
    const managed = objects.filter((d) => d.apiVersion?.startsWith('vcd-operator.io/'));
    assert.ok(managed.length >= 5);
    for (const d of managed) {
      const obj = await waitFor<KubeObject>(kube, resourceOf(d), d.metadata?.namespace, d.metadata?.name ?? '', isReady, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\noperator log:\n${operatorLog.slice(-3000)}`);
      });
      assert.equal(readyOf(obj as never)?.status, 'True', `${d.kind} ${d.metadata?.name ?? ''}`);
    }
    assert.doesNotMatch(operatorLog, /forbidden|\b403\b/i, 'no request of the operator was refused by RBAC');
    const lease = kubectl('get', 'lease', 'vcd-operator', '--namespace', NS, '-o', 'jsonpath={.spec.holderIdentity}');
    assert.equal(lease, podName, 'the leader Lease is held under the pod name');
    assert.match((await httpGet(port, '/metrics')).body, /^# HELP /m);

    operator.kill('SIGTERM');
    assert.equal(await exited, 0, `the operator stops cleanly on SIGTERM:\n${operatorLog.slice(-2000)}`);
    operator = undefined;
  });

  it('the ServiceAccount may do what the controllers need and nothing else', function () {
    const allowed: string[][] = [
      ['list', 'floatingipclaims.vcd-operator.io', '--all-namespaces'],
      ['watch', 'clustervcdconnections.vcd-operator.io'],
      ['patch', 'ipspaces.vcd-operator.io', '-n', 'team-a'],
      ['patch', 'ipprefixclaims.vcd-operator.io', '--subresource=status', '-n', 'team-a'],
      ['create', 'events.events.k8s.io', '-n', 'team-a'],
      ['patch', 'events.events.k8s.io', '-n', 'team-a'],
      ['get', 'namespaces/kube-system'],
      ['watch', 'namespaces'],
      ['list', 'secrets', '-n', NS],
      ['list', 'secrets', '-n', 'team-a'],
      ['create', 'leases.coordination.k8s.io', '-n', NS],
      ['update', 'leases.coordination.k8s.io/vcd-operator', '-n', NS],
    ];
    const denied: string[][] = [
      ['delete', 'namespaces/team-a'],
      ['create', 'namespaces'],
      ['create', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['update', 'customresourcedefinitions.apiextensions.k8s.io/floatingipclaims.vcd-operator.io'],
      ['create', 'floatingipclaims.vcd-operator.io', '-n', 'team-a'],
      ['delete', 'ipspaces.vcd-operator.io', '-n', 'team-a'],
      ['update', 'floatingipclaims.vcd-operator.io', '-n', 'team-a'],
      ['get', 'secrets/acme-vcd-credentials', '-n', 'team-a'],
      ['create', 'secrets', '-n', NS],
      ['update', 'leases.coordination.k8s.io/someone-else', '-n', NS],
      ['get', 'leases.coordination.k8s.io/someone-else', '-n', NS],
      ['create', 'leases.coordination.k8s.io', '-n', 'team-a'],
      ['list', 'pods', '-n', NS],
      ['create', 'events', '-n', 'team-a'],
    ];
    const wrong = [
      ...allowed.filter((a) => !can(...a)).map((a) => `denied: ${a.join(' ')}`),
      ...denied.filter((d) => can(...d)).map((d) => `allowed: ${d.join(' ')}`),
    ];
    assert.deepEqual(wrong, []);
  });

  it('helm upgrade to granted Secret access without CRD install: Secrets only where granted, CRDs stay', function () {
    const before = crdNames();
    kubectl('create', 'namespace', 'team-d');
    kubectl('create', 'namespace', 'team-c');
    const notes = helm(
      'upgrade',
      RELEASE,
      chart,
      '--namespace',
      NS,
      '--set',
      'rbac.secretAccess=granted',
      '--set',
      'rbac.secretNamespaces={team-a}',
      '--set',
      'crds.install=false',
    );
    assert.deepEqual(crdNames(), before, 'CRDs dropped from the release are kept');
    assert.ok(can('list', 'secrets', '-n', 'team-a'), 'granted by the release');
    assert.ok(can('watch', 'secrets', '-n', NS), 'the operator namespace is always readable');
    assert.ok(!can('list', 'secrets', '-n', 'team-d'), 'not granted');
    assert.ok(!can('list', 'secrets', '--all-namespaces'), 'no cluster-wide Secret read');
    assert.ok(!can('create', 'customresourcedefinitions.apiextensions.k8s.io'));
    assert.ok(!can('patch', 'customresourcedefinitions.apiextensions.k8s.io/ipspaces.vcd-operator.io'));
    // A tenant grants access in its own namespace with the command NOTES.txt shows.
    const grant = /kubectl -n NS (create rolebinding .*)\\\n\s*(--clusterrole=\S+) \\\n\s*(--serviceaccount=\S+)/.exec(notes);
    assert.ok(grant?.[1] && grant[2] && grant[3], `NOTES shows the RoleBinding a tenant creates:\n${notes}`);
    kubectl('-n', 'team-c', ...grant[1].trim().split(/\s+/), grant[2], grant[3]);
    assert.match(notes, /CRD install is off/);
    assert.ok(can('list', 'secrets', '-n', 'team-c'), 'granted by the tenant');
    assert.ok(!can('list', 'secrets', '-n', 'team-d'));
    assert.match(helm('status', RELEASE, '--namespace', NS), /STATUS: deployed/);
  });

  it('in granted mode the operator runs: a namespace with the RoleBinding gets its connection and claim Ready, one without is told to create it', async function () {
    const { port, exited } = await runOperator();
    assert.ok(operator);
    const kube = admin();
    const acme = sim.credentials.tenants.find((t) => t.org === 'acme');
    assert.ok(acme);
    const tenant = async (ns: string): Promise<void> => {
      await kube.create(resourceOf({ apiVersion: 'v1', kind: 'Secret' }), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'acme-vcd-credentials', namespace: ns },
        stringData: { apiToken: acme.apiToken },
      } as KubeObject);
      await kube.create(resourceOf({ apiVersion: 'vcd-operator.io/v1alpha1', kind: 'VCDConnection' }), {
        apiVersion: 'vcd-operator.io/v1alpha1',
        kind: 'VCDConnection',
        metadata: { name: 'acme', namespace: ns },
        spec: { url: sim.vcd.url, org: 'acme', credentialsSecretRef: { name: 'acme-vcd-credentials' }, caBundle: sim.caPem },
      } as KubeObject);
    };
    const conn = resourceOf({ apiVersion: 'vcd-operator.io/v1alpha1', kind: 'VCDConnection' });
    const fip = resourceOf({ apiVersion: 'vcd-operator.io/v1alpha1', kind: 'FloatingIPClaim' });
    const withLog = (err: Error): never => {
      throw new Error(`${err.message}\noperator log:\n${operatorLog.slice(-3000)}`);
    };

    // team-c: its owner created the RoleBinding NOTES.txt shows (previous test).
    await tenant('team-c');
    await kube.create(fip, {
      apiVersion: 'vcd-operator.io/v1alpha1',
      kind: 'FloatingIPClaim',
      metadata: { name: 'web', namespace: 'team-c' },
      spec: { connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: 'public-ips' } },
    } as KubeObject);
    await waitFor<KubeObject>(kube, conn, 'team-c', 'acme', isReady, 60_000).catch(withLog);
    const claim = await waitFor<KubeObject & { status?: { address?: string } }>(kube, fip, 'team-c', 'web', isReady, 60_000).catch(withLog);
    assert.ok(claim?.status?.address, 'the claim holds an address');

    // team-d: no grant. The connection says what to do; the operator stays ready.
    await tenant('team-d');
    const refused = await waitFor<KubeObject>(kube, conn, 'team-d', 'acme', hasReason('SecretAccessNotGranted'), 60_000).catch(withLog);
    const message = readyOf(refused)?.message ?? '';
    const command = `kubectl -n team-d create rolebinding ${RELEASE}-secret-reader --clusterrole=${RELEASE}-secret-reader --serviceaccount=${NS}:${RELEASE}`;
    assert.ok(message.includes(command), `the message names the RoleBinding of NOTES.txt:\n${message}`);
    assert.equal((await httpGet(port, '/readyz')).status, 200, 'a namespace without a grant does not make the operator unready');

    // The grant takes effect without a restart.
    kubectl('-n', 'team-d', ...command.split(/\s+/).slice(3));
    await waitFor<KubeObject>(kube, conn, 'team-d', 'acme', isReady, 90_000).catch(withLog);

    operator.kill('SIGTERM');
    assert.equal(await exited, 0, `the operator stops cleanly on SIGTERM:\n${operatorLog.slice(-2000)}`);
    operator = undefined;
  });

  it('helm uninstall removes the operator and its RBAC, keeps the CRDs and every custom resource', function () {
    const before = crdNames();
    helm('uninstall', RELEASE, '--namespace', NS);
    assert.deepEqual(crdNames(), before);
    assert.match(kubectl('get', 'floatingipclaim', 'web', '-n', 'team-a', '-o', 'name'), /web/);
    const left = spawnSync(cp.assets.kubectl, ['--kubeconfig', cp.kubeconfigPath, 'get', 'clusterrole', RELEASE], { encoding: 'utf8' });
    assert.notEqual(left.status, 0, 'the ClusterRole is gone');
    assert.ok(!kubectl('get', 'serviceaccount', '-n', NS, '-o', 'name').split('\n').includes(`serviceaccount/${RELEASE}`), 'the ServiceAccount is gone');
  });
});
