import assert from 'node:assert/strict';
import type { ClusterVCDConnection, VCDConnection } from '../../../src/api/index.ts';
import type { VcdClient, VcdConnectOptions } from '../../../src/clients/vcd/index.ts';
import { VcdAuthError } from '../../../src/clients/vcd/index.ts';
import { ClientCache, VcdConnectionPool, type ConnectionFailure, type Secret } from '../../../src/reconcile/connections/index.ts';
import { createLogger, ManualClock, SupervisedInformer, type KubeObject } from '../../../src/runtime/index.ts';
import { FakeListWatcher } from '../runtime/fake-list-watcher.ts';

const OPS = 'vcd-operator-system';
const ORGS = [
  { id: 'urn:vcloud:org:acme', name: 'acme' },
  { id: 'urn:vcloud:org:globex', name: 'Globex' },
];

interface FakeClient {
  apiVersion: string;
  opts: VcdConnectOptions;
  closed: boolean;
  orgLookups: string[];
  close(): Promise<void>;
  orgs: { get(id: string): Promise<{ id: string; name: string } | undefined> };
}

function secret(namespace: string, name: string, rv = '1'): Secret {
  return { metadata: { namespace, name, uid: `${namespace}-${name}`, resourceVersion: rv }, data: { apiToken: Buffer.from('token-value').toString('base64') } };
}

function clusterConn(name: string, spec: Partial<ClusterVCDConnection['spec']> = {}): ClusterVCDConnection {
  return {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'ClusterVCDConnection',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '1' },
    spec: { url: 'https://vcd.example.com', org: 'System', credentialsSecretRef: { name: `${name}-creds` }, allowedNamespaces: {}, ...spec },
  };
}

function ns(name: string, labels: Record<string, string> = {}): KubeObject {
  return { metadata: { name, resourceVersion: '1', labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

describe('VcdConnectionPool', function () {
  let clock: ManualClock;
  let lws: {
    vcd: FakeListWatcher<VCDConnection>;
    cluster: FakeListWatcher<ClusterVCDConnection>;
    secrets: FakeListWatcher<Secret>;
    namespaces: FakeListWatcher<KubeObject>;
  };
  let informers: SupervisedInformer<KubeObject>[];
  let clients: FakeClient[];
  let failLogin: Error | undefined;
  let pool: VcdConnectionPool;

  async function start(items: { cluster?: ClusterVCDConnection[]; vcd?: VCDConnection[]; secrets?: Secret[]; namespaces?: KubeObject[] }): Promise<void> {
    lws.cluster.current = { items: items.cluster ?? [], resourceVersion: '10' };
    lws.vcd.current = { items: items.vcd ?? [], resourceVersion: '10' };
    lws.secrets.current = { items: items.secrets ?? [], resourceVersion: '10' };
    lws.namespaces.current = { items: items.namespaces ?? [], resourceVersion: '10' };
    const vcdConnections = new SupervisedInformer(lws.vcd, { clock });
    const clusterConnections = new SupervisedInformer(lws.cluster, { clock });
    const secrets = new SupervisedInformer(lws.secrets, { clock });
    const namespaces = new SupervisedInformer(lws.namespaces, { clock });
    informers = [vcdConnections, clusterConnections, secrets, namespaces] as unknown as SupervisedInformer<KubeObject>[];
    for (const i of informers) i.start();
    await clock.advance(0);
    pool = new VcdConnectionPool({
      vcdConnections,
      clusterConnections,
      secrets,
      namespaces,
      operatorNamespace: OPS,
      logger: createLogger({ level: 'silent' }),
      clock,
      failureHoldMs: 5000,
      retireAfterMs: 30_000,
      connect: (opts) => {
        if (failLogin) return Promise.reject(failLogin);
        const c: FakeClient = {
          apiVersion: '37.2',
          opts,
          closed: false,
          orgLookups: [],
          close: () => Promise.resolve(void (c.closed = true)),
          orgs: {
            get: (id) => {
              c.orgLookups.push(id);
              return Promise.resolve(ORGS.find((o) => o.id === id));
            },
          },
        };
        clients.push(c);
        return Promise.resolve(c as unknown as VcdClient);
      },
    });
  }

  beforeEach(function () {
    clock = new ManualClock();
    lws = { vcd: new FakeListWatcher(), cluster: new FakeListWatcher(), secrets: new FakeListWatcher(), namespaces: new FakeListWatcher() };
    clients = [];
    failLogin = undefined;
  });
  afterEach(async function () {
    await pool?.closeAll();
    for (const i of informers ?? []) await i.stop();
  });

  describe('clients', function () {
    it('one client per connection, labelled with its connection key for metrics; a Secret change rebuilds it and closes the old one later', async function () {
      await start({ cluster: [clusterConn('provider')], secrets: [secret(OPS, 'provider-creds')], namespaces: [ns(OPS)] });
      const a = await pool.resolve({ kind: 'ClusterVCDConnection', name: 'provider' }, OPS);
      const b = await pool.resolve({ kind: 'ClusterVCDConnection', name: 'provider' }, OPS);
      assert.ok(a.ok && b.ok);
      assert.equal(a.client, b.client);
      assert.equal(clients.length, 1);
      assert.equal(clients[0]?.opts.metricsConnection, 'ClusterVCDConnection/provider');

      lws.secrets.lastWatch.emit({ type: 'MODIFIED', object: secret(OPS, 'provider-creds', '2') });
      const c = await pool.resolve({ kind: 'ClusterVCDConnection', name: 'provider' }, OPS);
      assert.ok(c.ok);
      assert.notEqual(c.client, a.client, 'rotated credentials log in again');
      assert.equal(clients[0]?.closed, false, 'calls still running on the old client may finish');
      await clock.advance(30_000);
      assert.equal(clients[0]?.closed, true);
    });

    it('holds a failed login for the hold time, then tries again; closeAll closes every client', async function () {
      await start({ cluster: [clusterConn('provider')], secrets: [secret(OPS, 'provider-creds')], namespaces: [ns(OPS)] });
      failLogin = new VcdAuthError('session.login', 401, 'bad token');
      const ref = { kind: 'ClusterVCDConnection', name: 'provider' } as const;
      const first = await pool.resolve(ref, OPS);
      assert.ok(!first.ok && first.reason === 'ConnectionNotReady' && /Login failed/.test(first.message));
      failLogin = undefined;
      const held = await pool.resolve(ref, OPS);
      assert.ok(!held.ok, 'held: no second login within the hold');
      assert.equal(clients.length, 0);
      await clock.advance(5000);
      const retried = await pool.resolve(ref, OPS);
      assert.ok(retried.ok);
      assert.equal(clients.length, 1);
      await pool.closeAll();
      assert.equal(clients[0]?.closed, true);
    });

    it('a missing Secret is SecretNotFound, and a deleted connection is forgotten and logged out', async function () {
      await start({ cluster: [clusterConn('provider'), clusterConn('nosecret')], secrets: [secret(OPS, 'provider-creds')], namespaces: [ns(OPS)] });
      await assert.rejects(pool.clientFor(clusterConn('nosecret')), (e: ConnectionFailure) => e.reason === 'SecretNotFound');
      const ok = await pool.resolve({ kind: 'ClusterVCDConnection', name: 'provider' }, OPS);
      assert.ok(ok.ok);
      pool.forget('ClusterVCDConnection/provider');
      await clock.advance(30_000);
      assert.equal(clients[0]?.closed, true);
    });
  });

  describe('tenancy', function () {
    const tenants: NonNullable<ClusterVCDConnection['spec']['tenants']> = [
      { namespaceSelector: { matchLabels: { team: 'a' } }, orgs: ['acme'] },
      { namespaceSelector: { matchLabels: { tier: 'platform' } }, orgs: ['System', 'globex'] },
    ];
    const ref = { kind: 'ClusterVCDConnection', name: 'provider' } as const;

    async function startBound(spec: Partial<ClusterVCDConnection['spec']> = { tenants }): Promise<void> {
      await start({
        cluster: [clusterConn('provider', spec)],
        secrets: [secret(OPS, 'provider-creds')],
        namespaces: [ns(OPS), ns('team-a', { team: 'a' }), ns('team-b', { team: 'b' }), ns('platform', { tier: 'platform', team: 'a' })],
      });
    }

    it('a namespace acts for the orgs it is bound to, by name, without regard to case', async function () {
      await startBound();
      const res = await pool.resolve(ref, 'team-a', { org: { name: 'ACME' } });
      assert.ok(res.ok);
      assert.deepEqual(res.org, { name: 'ACME' });
    });

    it('another org is refused with OrgNotAllowed before any login, saying what to set', async function () {
      await startBound();
      const res = await pool.resolve(ref, 'team-a', { org: { name: 'globex' } });
      assert.ok(!res.ok);
      assert.equal(res.reason, 'OrgNotAllowed');
      assert.match(res.message, /binds namespace team-a to org acme, not to org globex/);
      assert.match(res.message, /spec\.tenants entry of the connection whose namespaceSelector matches namespace team-a/);
      assert.equal(clients.length, 0, 'no login, no call to VCD');
    });

    it('a namespace no entry selects may act for no org', async function () {
      await startBound();
      const res = await pool.resolve(ref, 'team-b', { org: { name: 'acme' } });
      assert.ok(!res.ok && res.reason === 'OrgNotAllowed');
      assert.match(res.message, /binds namespace team-b to no org/);
    });

    it('entries add up: a namespace two entries select may act for the orgs of both', async function () {
      await startBound();
      for (const org of ['acme', 'globex', 'System']) assert.ok((await pool.resolve(ref, 'platform', { org: { name: org } })).ok, org);
    });

    it('an org by id is looked up, then checked by name; the resolution carries the name', async function () {
      await startBound();
      const allowed = await pool.resolve(ref, 'team-a', { org: { id: 'urn:vcloud:org:acme' } });
      assert.ok(allowed.ok);
      assert.deepEqual(allowed.org, { id: 'urn:vcloud:org:acme', name: 'acme' });
      const refused = await pool.resolve(ref, 'team-a', { org: { id: 'urn:vcloud:org:globex' } });
      assert.ok(!refused.ok && refused.reason === 'OrgNotAllowed');
      assert.match(refused.message, /not to org Globex \(urn:vcloud:org:globex\)/);
      const unknown = await pool.resolve(ref, 'team-a', { org: { id: 'urn:vcloud:org:nope' } });
      assert.ok(!unknown.ok && unknown.reason === 'OrgNotFound');
      assert.deepEqual(clients[0]?.orgLookups, ['urn:vcloud:org:acme', 'urn:vcloud:org:globex', 'urn:vcloud:org:nope']);
    });

    it("no org named means the connection's own org, so provider-level objects need it bound", async function () {
      await startBound();
      const tenant = await pool.resolve(ref, 'team-a');
      assert.ok(!tenant.ok && tenant.reason === 'OrgNotAllowed');
      assert.match(tenant.message, /not to org System/);
      assert.ok((await pool.resolve(ref, 'platform')).ok);
    });

    it("the operator's namespace may act for every org", async function () {
      await startBound();
      assert.ok((await pool.resolve(ref, OPS, { org: { name: 'globex' } })).ok);
      assert.ok((await pool.resolve(ref, OPS)).ok);
    });

    it('without spec.tenants every namespace allowedNamespaces admits may act for any org (as before)', async function () {
      await startBound({});
      assert.ok((await pool.resolve(ref, 'team-b', { org: { name: 'globex' } })).ok);
      assert.ok((await pool.resolve(ref, 'team-b', { org: { id: 'urn:vcloud:org:acme' } })).ok);
      assert.deepEqual(clients[0]?.orgLookups ?? [], [], 'no lookup when nothing is bound');
    });

    it('allowedNamespaces is checked first: a bound namespace the connection does not admit gets ConnectionNotAllowed', async function () {
      await startBound({ tenants, allowedNamespaces: { matchLabels: { tier: 'platform' } } });
      const res = await pool.resolve(ref, 'team-a', { org: { name: 'acme' } });
      assert.ok(!res.ok && res.reason === 'ConnectionNotAllowed');
    });

    it('a namespaced VCDConnection is not subject to bindings: VCD applies its own tenant rights', async function () {
      const conn: VCDConnection = {
        apiVersion: 'vcd-operator.io/v1alpha1',
        kind: 'VCDConnection',
        metadata: { name: 'acme', namespace: 'team-b', uid: 'u1', resourceVersion: '1' },
        spec: { url: 'https://vcd.example.com', org: 'acme', credentialsSecretRef: { name: 'acme-creds' } },
      };
      await start({ vcd: [conn], secrets: [secret('team-b', 'acme-creds')], namespaces: [ns('team-b')] });
      assert.ok((await pool.resolve({ kind: 'VCDConnection', name: 'acme' }, 'team-b', { org: { name: 'acme' } })).ok);
    });
  });
});

describe('ClientCache', function () {
  it('turns a build that throws before its first await into a held ConnectionFailure, never an unhandled rejection', async function () {
    const clock = new ManualClock();
    const cache = new ClientCache<{ close(): Promise<void> }>({ clock, classify: (e) => ({ reason: 'Unreachable', message: String(e) }) });
    let builds = 0;
    const build = (): Promise<{ close(): Promise<void> }> => {
      builds++;
      throw new Error('bad URL');
    };
    await assert.rejects(cache.get('k', 'f1', build), (e: ConnectionFailure) => e.reason === 'Unreachable');
    await assert.rejects(cache.get('k', 'f1', build, { honourHold: true }), (e: ConnectionFailure) => e.reason === 'Unreachable');
    assert.equal(builds, 1);
    await assert.rejects(cache.get('k', 'f2', build, { honourHold: true }));
    assert.equal(builds, 2, 'a changed fingerprint builds again at once');
  });
});
