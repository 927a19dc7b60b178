// A real Kubernetes control plane (etcd + kube-apiserver) on loopback for tests and the demo.
// No fakes: RBAC on, CRDs installed from crds/, an admin identity (static token in
// system:masters) for the client and for kubectl/helm.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, loadYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { findAssets, type Assets } from './assets.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ControlPlaneOptions {
  /** Directory of CRD YAML to install once ready; defaults to the repo's crds/. */
  crdDir?: string;
  /** Progress lines (the demo prints them); silent by default. */
  log?: (line: string) => void;
  /** Extra kube-apiserver flags, `--name=value`. */
  apiserverFlags?: string[];
}

export interface ControlPlane {
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly dir: string;
  readonly assets: Assets;
  /** gitVersion reported by the apiserver's /version. */
  readonly version: string;
  /** Seconds from start to a ready apiserver with CRDs established. */
  readonly startSeconds: number;
  kubeConfig(): KubeConfig;
  /** Creates or replaces CRDs given in wire form (as in YAML), then waits until they are Established. */
  installCRDs(crds: object[]): Promise<void>;
  /** Stops only the kube-apiserver (etcd keeps the data); used to prove clients survive outages. */
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  /** PIDs of the running etcd and kube-apiserver. */
  pids(): number[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One guardian per test process; it kills every child if this process dies without cleaning up. */
let guardian: ChildProcess | undefined;
const livePids = new Set<number>();
function guard(arg: number | string, verb: 'add' | 'del' | 'dir' | 'undir'): void {
  if (!guardian) {
    guardian = spawn(process.execPath, [join(repoRoot, 'test', 'harness', 'guardian.ts')], {
      stdio: ['pipe', 'ignore', 'inherit'],
      detached: true,
    });
    guardian.unref();
    // The pipe must not keep this process alive, only tell the guardian when it ends.
    (guardian.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    process.once('exit', () => {
      for (const p of livePids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }
  if (verb === 'add' && typeof arg === 'number') livePids.add(arg);
  if (verb === 'del' && typeof arg === 'number') livePids.delete(arg);
  guardian.stdin?.write(`${verb} ${arg}\n`);
}

function httpsGet(url: string, ca: Buffer | undefined, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, rejectUnauthorized: !!ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
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

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
}

function launch(bin: string, args: string[], logFile: string): Proc {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  if (child.pid) guard(child.pid, 'add');
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (child.pid) guard(child.pid, 'del');
      resolve(code);
    }),
  );
  return { child, exited };
}

async function terminate(p: Proc | undefined, graceMs = 5000): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** CRDs in wire form (the YAML's own keys, such as `x-kubernetes-validations`). */
export function loadCRDs(dir: string): object[] {
  if (!existsSync(dir)) return [];
  const out: object[] = [];
  for (const f of readdirSync(dir)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const obj = doc.toJS() as { kind?: string } | null;
      if (obj?.kind === 'CustomResourceDefinition') out.push(obj);
    }
  }
  return out;
}

export async function installCRDs(kc: KubeConfig, raw: object[], timeoutMs = 30000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  // The typed client serializes by its model's field names (x_kubernetes_validations); wire-form
  // keys would be dropped silently, CEL rules with them. Deserialize into the model first.
  const crds = raw.map((o) => loadYaml<V1CustomResourceDefinition>(JSON.stringify(o)));
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    try {
      const existing = await api.readCustomResourceDefinition({ name });
      crd.metadata = { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion };
      await api.replaceCustomResourceDefinition({ name, body: crd });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await api.createCustomResourceDefinition({ body: crd });
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const cur = await api.readCustomResourceDefinition({ name });
      if (cur.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
  }
  // Established means accepted; the endpoint may serve a moment later. Tests should not race it.
  const objects = kc.makeApiClient(CustomObjectsApi);
  for (const crd of crds) {
    const { group, names } = crd.spec;
    const version = crd.spec.versions.find((v) => v.served)?.name ?? '';
    for (;;) {
      try {
        await objects.listClusterCustomObject({ group, version, plural: names.plural, limit: 1 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(100);
      }
    }
  }
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? (() => undefined);
  const t0 = Date.now();
  const assets = findAssets();
  // etcd on tmpfs when there is one: fsync-free storage makes the apiserver several times faster.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'vcd-operator-cp-'));
  guard(dir, 'dir');
  const pki = join(dir, 'pki');
  mkdirSync(pki);
  const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(join(dir, 'sa.key'), privateKey, { mode: 0o600 });

  const etcdArgs = [
    `--name=test`,
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=test=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
  log(`starting etcd on 127.0.0.1:${etcdPort}`);
  const etcd = launch(assets.etcd, etcdArgs, join(dir, 'etcd.log'));

  const server = `https://127.0.0.1:${apiPort}`;
  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${pki}`,
    `--service-account-issuer=${server}/`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--service-account-key-file=${join(dir, 'sa.key')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    ...(opts.apiserverFlags ?? []),
  ];
  let apiserver: Proc | undefined;
  const caFile = join(pki, 'apiserver.crt');

  const waitReady = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (apiserver && apiserver.child.exitCode !== null) {
        throw new Error(`kube-apiserver exited with ${apiserver.child.exitCode}:\n${tail(join(dir, 'kube-apiserver.log'))}`);
      }
      if (etcd.child.exitCode !== null) throw new Error(`etcd exited:\n${tail(join(dir, 'etcd.log'))}`);
      try {
        const ca = existsSync(caFile) ? readFileSync(caFile) : undefined;
        const res = await httpsGet(`${server}/readyz`, ca, token);
        if (res.status === 200 && ca) return;
        last = `${res.status} ${res.body.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(100);
    }
    throw new Error(`kube-apiserver not ready after ${timeoutMs} ms (${last}):\n${tail(join(dir, 'kube-apiserver.log'))}`);
  };

  const startApiserver = async (): Promise<void> => {
    apiserver = launch(assets.kubeApiserver, apiArgs, join(dir, 'kube-apiserver.log'));
    await waitReady(60000);
  };

  const stopAll = async (): Promise<void> => {
    await terminate(apiserver);
    await terminate(etcd);
    rmSync(dir, { recursive: true, force: true });
    guard(dir, 'undir');
  };

  try {
    log(`starting kube-apiserver on ${server}`);
    await startApiserver();
  } catch (err) {
    await stopAll();
    throw err;
  }

  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: test\n  cluster:\n    server: ${server}\n    certificate-authority: ${caFile}`,
      'users:',
      `- name: admin\n  user:\n    token: ${token}`,
      'contexts:',
      '- name: test\n  context:\n    cluster: test\n    user: admin',
      'current-context: test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    return kc;
  };

  const version = (JSON.parse((await httpsGet(`${server}/version`, readFileSync(caFile), token)).body) as { gitVersion: string }).gitVersion;
  const crds = loadCRDs(opts.crdDir ?? join(repoRoot, 'crds'));
  if (crds.length) {
    log(`installing ${crds.length} CRDs`);
    await installCRDs(kubeConfig(), crds);
  }
  const startSeconds = (Date.now() - t0) / 1000;
  log(`control plane ${version} ready in ${startSeconds.toFixed(1)} s`);

  return {
    server,
    kubeconfigPath,
    dir,
    assets,
    version,
    startSeconds,
    kubeConfig,
    installCRDs: (list) => installCRDs(kubeConfig(), list),
    stopApiserver: () => terminate(apiserver),
    startApiserver,
    pids: () => [etcd, apiserver].flatMap((p) => (p?.child.pid && p.child.exitCode === null ? [p.child.pid] : [])),
    stop: stopAll,
  };
}
