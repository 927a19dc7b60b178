// The Helm chart and deploy/, rendered by the real helm: lint, a value for every flag of the
// binary, restricted pods, RBAC derived from the CRDs the chart ships, values.schema.json that
// refuses unknown keys, and deploy/ in sync with the chart and accepted by the apiserver.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { findAssets } from '../../harness/assets.ts';
import { controlPlane } from '../../harness/shared.ts';
import { DEPLOY_DIR, renderDeploy } from '../../../scripts/gen-deploy.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const chart = join(root, 'charts', 'vcd-operator');

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[];
}
interface Container {
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  resources?: unknown;
}

function helm(): string {
  const h = findAssets().helm;
  if (!h) throw new Error('helm not found: run npm run test-bins');
  return h;
}

export function template(args: string[] = [], chartDir = chart): K8sObject[] {
  const out = execFileSync(helm(), ['template', 'vcd-operator', chartDir, '--namespace', 'vcd-operator-system', ...args], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => !!o);
}

const find = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const o = objs.find((x) => x.kind === kind && (!name || x.metadata.name === name));
  assert.ok(o, `rendered ${kind} ${name ?? ''}`);
  return o;
};
const podSpec = (objs: K8sObject[]) =>
  (find(objs, 'Deployment').spec as { template: { spec: { securityContext: Record<string, unknown>; containers: Container[] } } }).template.spec;

function plurals(): string[] {
  return template()
    .filter((o) => o.kind === 'CustomResourceDefinition')
    .map((o) => (o.spec as { names: { plural: string } }).names.plural)
    .sort();
}

describe('charts/vcd-operator', function () {
  this.timeout(120_000);

  it('passes helm lint --strict, with the default values and with granted Secret access', function () {
    execFileSync(helm(), ['lint', '--strict', chart], { encoding: 'utf8' });
    execFileSync(
      helm(),
      ['lint', '--strict', chart, '--set', 'rbac.secretAccess=granted', '--set', 'rbac.secretNamespaces={team-a}', '--set', 'crds.install=false'],
      { encoding: 'utf8' },
    );
  });

  it('sets every flag of the binary from values (the operator namespace and identity from the pod)', function () {
    const help = execFileSync(process.execPath, [join(root, 'src', 'main.ts'), '--help'], { encoding: 'utf8' });
    const flags = [...help.matchAll(/^\s+--([a-z][a-z-]*)/gm)].map((m) => m[1] ?? '');
    assert.ok(flags.length >= 10, 'flags read from --help');
    const container = podSpec(template(['--set', 'operator.watchNamespace=team-a'])).containers[0];
    assert.ok(container);
    const fromPod: Record<string, [string, string]> = {
      'operator-namespace': ['POD_NAMESPACE', 'metadata.namespace'],
      identity: ['POD_NAME', 'metadata.name'],
      'service-account': ['SERVICE_ACCOUNT', 'spec.serviceAccountName'],
    };
    for (const flag of flags) {
      if (flag === 'help' || flag === 'kubeconfig') continue; // in-cluster config
      const pod = fromPod[flag];
      if (pod) {
        const env: Container['env'][number] | undefined = container.env.find((e) => e.name === pod[0]);
        assert.equal(env?.valueFrom?.fieldRef?.fieldPath, pod[1], `--${flag} comes from ${pod[0]}`);
      } else {
        assert.ok(
          container.args.some((a) => a.startsWith(`--${flag}=`)),
          `--${flag} has a value in the chart (values.yaml operator.* or leaderElection.*)`,
        );
      }
    }
  });

  it('runs two replicas with leader election, probes, resources and the restricted pod security profile', function () {
    const objs = template();
    const spec = find(objs, 'Deployment').spec as { replicas: number };
    assert.equal(spec.replicas, 2);
    const pod = podSpec(objs);
    const c = pod.containers[0];
    assert.ok(c);
    assert.ok(c.args.includes('--leader-elect=true'));
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.ok(c.resources);
    assert.deepEqual(
      { runAsNonRoot: pod.securityContext.runAsNonRoot, seccomp: pod.securityContext.seccompProfile },
      { runAsNonRoot: true, seccomp: { type: 'RuntimeDefault' } },
    );
    assert.deepEqual(
      {
        readOnlyRootFilesystem: c.securityContext.readOnlyRootFilesystem,
        allowPrivilegeEscalation: c.securityContext.allowPrivilegeEscalation,
        capabilities: c.securityContext.capabilities,
      },
      { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    );
    assert.equal((find(objs, 'PodDisruptionBudget').spec as { minAvailable: number }).minAvailable, 1);
    assert.equal(find(objs, 'Service', 'vcd-operator-metrics').kind, 'Service');
    assert.ok(!objs.some((o) => o.kind === 'ServiceMonitor'), 'no ServiceMonitor unless asked');
    const sm = find(template(['--set', 'metrics.serviceMonitor.enabled=true']), 'ServiceMonitor');
    assert.equal((sm.spec as { endpoints: { path: string }[] }).endpoints[0]?.path, '/metrics');
  });

  it('ships the CRDs of crds/ behind crds.install, kept on uninstall', function () {
    const crds = template().filter((o) => o.kind === 'CustomResourceDefinition');
    const onDisk = readdirSync(join(root, 'crds')).map((f) => parse(readFileSync(join(root, 'crds', f), 'utf8')) as K8sObject);
    assert.deepEqual(crds.map((c) => c.metadata.name).sort(), onDisk.map((c) => c.metadata.name).sort());
    for (const c of crds) {
      assert.equal(c.metadata.annotations?.['helm.sh/resource-policy'], 'keep', c.metadata.name);
      const { annotations: _a, ...meta } = c.metadata;
      const disk = onDisk.find((d) => d.metadata.name === c.metadata.name);
      assert.deepEqual({ ...c, metadata: meta }, disk, `${c.metadata.name} is crds/ plus the keep annotation`);
    }
    assert.equal(template(['--set', 'crds.install=false']).filter((o) => o.kind === 'CustomResourceDefinition').length, 0);
  });

  it('grants exactly the verbs the controllers use, on the kinds the shipped CRDs define', function () {
    const objs = template();
    const role = find(objs, 'ClusterRole', 'vcd-operator');
    const kinds = plurals();
    assert.deepEqual(role.rules, [
      { apiGroups: ['vcd-operator.io'], resources: kinds, verbs: ['list', 'watch', 'patch'] },
      { apiGroups: ['vcd-operator.io'], resources: kinds.map((k) => `${k}/status`), verbs: ['patch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
    ]);
    assert.deepEqual(find(objs, 'Role', 'vcd-operator').rules, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['vcd-operator'], verbs: ['get', 'update'] },
    ]);
    const granted = template(['--set', 'rbac.secretAccess=granted', '--set', 'rbac.secretNamespaces={team-a,team-b}']);
    assert.ok(!find(granted, 'ClusterRole', 'vcd-operator').rules?.some((r) => r.resources.includes('secrets')), 'granted: no cluster-wide Secret read');
    assert.deepEqual(
      granted.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'vcd-operator-secret-reader').map((o) => o.metadata.namespace),
      ['team-a', 'team-b'],
    );
    const view = find(objs, 'ClusterRole', 'vcd-operator-view');
    assert.equal(view.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    const edit = find(objs, 'ClusterRole', 'vcd-operator-edit');
    assert.equal(edit.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    assert.ok(!edit.rules?.[0]?.resources.includes('clustervcdconnections'), 'edit cannot create provider connections');
  });

  it('a kind added to files/crds gets its RBAC rules without a template change', function () {
    const dir = mkdtempSync(join(tmpdir(), 'vcd-operator-chart-'));
    try {
      cpSync(chart, dir, { recursive: true });
      const crd = readFileSync(join(dir, 'files', 'crds', 'ipspaces.vcd-operator.io.yaml'), 'utf8')
        .replaceAll('ipspaces', 'edgefirewallrules')
        .replaceAll('IPSpace', 'EdgeFirewallRule');
      writeFileSync(join(dir, 'files', 'crds', 'edgefirewallrules.vcd-operator.io.yaml'), crd);
      const role = find(template([], dir), 'ClusterRole', 'vcd-operator');
      assert.ok(role.rules?.[0]?.resources.includes('edgefirewallrules'));
      assert.ok(role.rules?.[1]?.resources.includes('edgefirewallrules/status'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('values.schema.json refuses keys it does not know, at every level', function () {
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
    const walk = (s: Record<string, unknown>, path: string): void => {
      if (s.properties) {
        assert.equal(s.additionalProperties, false, `${path || '/'} has additionalProperties: false`);
        for (const [k, v] of Object.entries(s.properties as Record<string, Record<string, unknown>>)) walk(v, `${path}/${k}`);
      }
    };
    walk(schema, '');
    for (const bad of ['operator.bogus=1', 'bogus=1', 'leaderElection.leaseDuration=15', 'rbac.secretAccess=everywhere']) {
      const res = spawnSync(helm(), ['template', 'x', chart, '--set', bad], { encoding: 'utf8' });
      assert.notEqual(res.status, 0, `--set ${bad} is refused`);
    }
  });
});

describe('deploy/', function () {
  this.timeout(120_000);

  it('is the chart rendered with its defaults (npm run gen:deploy)', function () {
    for (const [rel, text] of renderDeploy()) {
      assert.ok(readFileSync(join(DEPLOY_DIR, rel), 'utf8') === text, `deploy/${rel} is out of date: run npm run gen:deploy and commit the result`);
    }
  });

  it('kubectl apply -k deploy/ is accepted by the apiserver (server-side dry run)', function () {
    const cp = controlPlane();
    // A dry run does not create the namespace the namespaced objects go to.
    spawnSync(cp.assets.kubectl, ['--kubeconfig', cp.kubeconfigPath, 'create', 'namespace', 'vcd-operator-system'], { encoding: 'utf8' });
    const out = execFileSync(
      cp.assets.kubectl,
      ['--kubeconfig', cp.kubeconfigPath, 'apply', '-k', DEPLOY_DIR, '--dry-run=server', '--server-side', '--force-conflicts'],
      {
        encoding: 'utf8',
      },
    );
    for (const what of [
      'deployment.apps/vcd-operator',
      'clusterrole.rbac.authorization.k8s.io/vcd-operator',
      'customresourcedefinition.apiextensions.k8s.io/floatingipclaims.vcd-operator.io',
    ]) {
      assert.match(out, new RegExp(what.replaceAll('.', '\\.')));
    }
  });
});
