import assert from 'node:assert/strict';
import type { VCDConnection } from '../../../src/api/index.ts';
import { ConnectionFailure, SecretStore, type Secret, type SecretAccess, type SecretInformerHost } from '../../../src/reconcile/connections/index.ts';
import { KubeApiError, ManualClock, SupervisedInformer, type InformerScope, type KubeObject, type ResourceType } from '../../../src/runtime/index.ts';
import { FakeListWatcher } from '../runtime/fake-list-watcher.ts';

const OPS = 'vcd-operator-system';

function secret(namespace: string, name: string, rv = '1'): Secret {
  return { metadata: { namespace, name, uid: `${namespace}-${name}`, resourceVersion: rv }, data: { apiToken: Buffer.from('t').toString('base64') } };
}

function conn(namespace: string, name: string): VCDConnection {
  return {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'VCDConnection',
    metadata: { namespace, name, resourceVersion: '1' },
    spec: { url: 'https://vcd.example.com', org: 'acme', credentialsSecretRef: { name: `${name}-creds` } },
  };
}

/** The Manager's informer bookkeeping, over fake list-watchers: one per (namespace | all). */
class FakeHost implements SecretInformerHost {
  readonly lws = new Map<string, FakeListWatcher<KubeObject>>();
  readonly informers = new Map<string, { inf: SupervisedInformer<KubeObject>; optional: boolean }>();
  readonly dropped: string[] = [];
  readonly clock: ManualClock;
  constructor(clock: ManualClock) {
    this.clock = clock;
  }
  lw(ns: string): FakeListWatcher<KubeObject> {
    let lw = this.lws.get(ns);
    if (!lw) this.lws.set(ns, (lw = new FakeListWatcher()));
    return lw;
  }
  informer<T extends KubeObject>(_r: ResourceType, opts: InformerScope = {}): SupervisedInformer<T> {
    const ns = opts.namespace ?? '*';
    let e = this.informers.get(ns);
    if (!e) {
      e = {
        inf: new SupervisedInformer(this.lw(ns), { clock: this.clock, backoff: { initialMs: 1000, maxMs: 30_000, jitter: 0 } }),
        optional: !!opts.optional,
      };
      this.informers.set(ns, e);
      e.inf.start();
    }
    return e.inf as unknown as SupervisedInformer<T>;
  }
  async dropInformer(_r: ResourceType, ns: string): Promise<void> {
    const e = this.informers.get(ns);
    this.informers.delete(ns);
    this.dropped.push(ns);
    await e?.inf.stop();
  }
  async stopAll(): Promise<void> {
    await Promise.all([...this.informers.values()].map((e) => e.inf.stop()));
  }
}

describe('SecretStore (credentials Secrets by access mode)', function () {
  let clock: ManualClock;
  let host: FakeHost;
  let conns: FakeListWatcher<VCDConnection>;
  let connInformer: SupervisedInformer<VCDConnection>;

  function store(access: SecretAccess, watchNamespace?: string): SecretStore {
    const s = new SecretStore({
      host,
      access,
      operatorNamespace: OPS,
      ...(watchNamespace ? { watchNamespace } : {}),
      grant: { clusterRole: 'ops-secret-reader', serviceAccount: 'ops' },
    });
    s.track(connInformer);
    return s;
  }
  const failure = (fn: () => unknown): ConnectionFailure => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConnectionFailure) return err;
      throw err;
    }
    assert.fail('expected a ConnectionFailure');
  };

  beforeEach(function () {
    clock = new ManualClock();
    host = new FakeHost(clock);
    conns = new FakeListWatcher();
    connInformer = new SupervisedInformer(conns, { clock });
  });
  afterEach(async function () {
    await connInformer.stop();
    await host.stopAll();
  });

  it('cluster mode, all namespaces: one informer, nothing on demand', async function () {
    host.lw('*').current = { items: [secret('team-a', 'a-creds'), secret(OPS, 'p-creds')], resourceVersion: '3' };
    const s = store('cluster');
    conns.current = { items: [conn('team-a', 'a')], resourceVersion: '2' };
    connInformer.start();
    await clock.advance(0);
    assert.deepEqual([...host.informers.keys()], ['*']);
    assert.ok(s.get('team-a/a-creds'));
    assert.ok(s.get(`${OPS}/p-creds`));
    assert.equal(s.get('team-a/missing'), undefined);
  });

  it('cluster mode with --namespace: the operator namespace is read too (ClusterVCDConnection and VCenterTrust Secrets)', async function () {
    host.lw(OPS).current = { items: [secret(OPS, 'p-creds')], resourceVersion: '3' };
    host.lw('team-a').current = { items: [secret('team-a', 'a-creds')], resourceVersion: '4' };
    const s = store('cluster', 'team-a');
    await clock.advance(0);
    assert.deepEqual([...host.informers.keys()].sort(), ['team-a', OPS]);
    assert.ok(s.get(`${OPS}/p-creds`));
    assert.ok(s.get('team-a/a-creds'));
    assert.ok(
      [...host.informers.values()].every((e) => !e.optional),
      'both count for readiness',
    );
  });

  it('granted mode: the operator namespace always, a tenant namespace while it holds a VCDConnection', async function () {
    host.lw(OPS).current = { items: [secret(OPS, 'p-creds')], resourceVersion: '3' };
    host.lw('team-a').current = { items: [secret('team-a', 'a-creds')], resourceVersion: '4' };
    const s = store('granted');
    const seen: string[] = [];
    s.on({ add: (o) => seen.push(`${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`) });
    await clock.advance(0);
    assert.deepEqual([...host.informers.keys()], [OPS]);
    assert.equal(host.informers.get(OPS)?.optional, false, 'the operator namespace counts for readiness');
    assert.equal(s.get('team-a/a-creds'), undefined, 'no informer for a namespace without a connection');

    conns.current = { items: [conn('team-a', 'a'), conn('team-a', 'b'), conn(OPS, 'own')], resourceVersion: '2' };
    connInformer.start();
    await clock.advance(0);
    assert.deepEqual([...host.informers.keys()].sort(), ['team-a', OPS], 'no tenant informer for the operator namespace');
    assert.equal(host.informers.get('team-a')?.optional, true, 'made on demand, not counted for readiness');
    assert.deepEqual(s.tenantNamespaces(), ['team-a']);
    assert.ok(s.get('team-a/a-creds'));
    assert.deepEqual(seen.sort(), ['team-a/a-creds', `${OPS}/p-creds`], 'tenant Secret events reach watchers');

    conns.lastWatch.emit({ type: 'DELETED', object: conn('team-a', 'a') });
    await clock.advance(0);
    assert.deepEqual(host.dropped, [], 'b still uses team-a');
    conns.lastWatch.emit({ type: 'DELETED', object: conn('team-a', 'b') });
    await clock.advance(0);
    assert.deepEqual(host.dropped, ['team-a'], 'closed with the last connection');
    assert.deepEqual(s.tenantNamespaces(), []);
  });

  it('granted mode: a namespace whose owner has not granted read gives SecretAccessNotGranted with the RoleBinding to create, then works once granted', async function () {
    const lw = host.lw('team-b');
    lw.listResults.push(new KubeApiError('GET', '/api/v1/namespaces/team-b/secrets', 403, { reason: 'Forbidden' }));
    const s = store('granted');
    conns.current = { items: [conn('team-b', 'b')], resourceVersion: '2' };
    connInformer.start();
    await clock.advance(0);
    const f = failure(() => s.get('team-b/b-creds'));
    assert.equal(f.reason, 'SecretAccessNotGranted');
    assert.equal(
      f.message,
      'The operator may not read Secrets in namespace team-b (Secret access is granted per namespace). ' +
        "The namespace's owner grants it once with: kubectl -n team-b create rolebinding ops-secret-reader --clusterrole=ops-secret-reader --serviceaccount=vcd-operator-system:ops",
    );
    lw.current = { items: [secret('team-b', 'b-creds')], resourceVersion: '9' };
    await clock.advance(1000);
    assert.ok(s.get('team-b/b-creds'));
  });

  it('granted mode: a namespace still loading says so (Pending), not that the Secret is missing', async function () {
    const lw = host.lw('team-c');
    lw.listResults.push(new KubeApiError('GET', '/api/v1/namespaces/team-c/secrets', 500, {}));
    const s = store('granted');
    conns.current = { items: [conn('team-c', 'c')], resourceVersion: '2' };
    connInformer.start();
    await clock.advance(0);
    assert.equal(failure(() => s.get('team-c/c-creds')).reason, 'Pending');
  });

  it('granted mode with --namespace: no informer for connections outside the watched namespace', async function () {
    const s = store('granted', 'team-a');
    conns.current = { items: [conn('team-a', 'a'), conn('team-z', 'z')], resourceVersion: '2' };
    connInformer.start();
    await clock.advance(0);
    assert.deepEqual(s.tenantNamespaces(), ['team-a']);
  });
});
