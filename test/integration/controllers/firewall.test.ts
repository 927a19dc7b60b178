// EdgeFirewallRule end to end: the real kube-apiserver, the operator in-process, the simulator as
// VCD. acme-edge carries a foreign rule (written as the VCD UI would, with appliedTo, comments and
// network context profiles) that every test checks byte for byte after the operator's writes.
import assert from 'node:assert/strict';
import { VcdClient } from '../../../src/clients/vcd/index.ts';
import { FIREWALL_FINALIZER } from '../../../src/controllers/firewall/controller.ts';
import { formatObjectMarker, formatRuleMarker, parseObjectMarker, parseRuleMarker } from '../../../src/controllers/firewall/marker.ts';
import type { KubeClient, KubeObject } from '../../../src/runtime/index.ts';
import { startSimulator, type RunningSim } from '../../../src/sim/index.ts';
import {
  createProviderConnection,
  createTenantConnection,
  edgeFirewallRule,
  hasReason,
  isReady,
  readyOf,
  resources,
  startTestOperator,
  userClient,
  waitFor,
  type TestOperator,
} from '../../harness/operator.ts';
import { freshNamespace } from '../../harness/shared.ts';

const PUT_RULES = 'PUT /cloudapi/1.0.0/edgeGateways/{id}/firewall/rules';
type Raw = Record<string, unknown>;

interface RuleObj extends KubeObject {
  status?: {
    ruleId?: string;
    position?: number;
    edgeGateway?: string;
    edgeGatewayId?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

describe('edge firewall rules end to end', function () {
  this.timeout(120_000);
  let sim: RunningSim;
  let op: TestOperator;
  let kube: KubeClient;
  let vcd: VcdClient;
  let opNs: string;
  let ns: string;
  let clusterId: string;
  let edgeId: string;
  let segTransit: { id: string; name: string };
  let foreignJson: string;

  const startOperator = async () => {
    op = await startTestOperator({
      operatorNamespace: opNs,
      driftCheckMs: 1500,
      taskTimeoutMs: 10_000,
      clientOptions: { retry: { maxAttempts: 3, backoff: { initialDelayMs: 50, maxDelayMs: 200 } } },
    });
    clusterId = op.operator.deps.clusterId;
  };
  const userRules = async (): Promise<Raw[]> => ((await vcd.firewall.get(edgeId)).userDefinedRules ?? []) as unknown as Raw[];
  const foreignNow = async () => (await userRules()).filter((r) => r['name'] === 'ui-allow-dns');
  const managed = async () => (await userRules()).filter((r) => parseRuleMarker(r['description'])?.clusterId === clusterId);
  const ourSets = () => {
    const s = sim.admin.state().vcd;
    return {
      groups: s.firewallGroups.filter((g) => parseObjectMarker(g.description)?.clusterId === clusterId),
      profiles: s.applicationPortProfiles.filter((p) => p.name.startsWith('vcdop-ports-')),
    };
  };
  const assertForeignUnchanged = async () => {
    const f = await foreignNow();
    assert.equal(f.length, 1);
    assert.equal(JSON.stringify(f[0]), foreignJson, 'the foreign rule changed');
  };
  /** Writes to VCD objects since `seq` (logins and OAuth token exchanges are not writes to anything). */
  const writesSince = (seq: number) => sim.admin.audit(seq).filter((e) => !/\/sessions|\/oauth\//.test(e.route)).length;
  const lastSeq = () => sim.admin.audit().at(-1)?.seq ?? 0;

  before(async function () {
    sim = await startSimulator({ knobs: { taskDurationMs: 30 } });
    opNs = await freshNamespace('op');
    kube = userClient();
    const tenant = sim.credentials.tenants.find((t) => t.org === 'acme');
    vcd = await VcdClient.connect({ url: sim.vcd.url, org: 'acme', auth: { apiToken: tenant?.apiToken ?? '' }, caPem: sim.caPem });
    const edge = await vcd.edgeGateways.findByName('acme-edge');
    edgeId = edge?.id ?? '';
    const seg = edge?.edgeGatewayUplinks.find((u) => u.backingType === 'IMPORTED_T_LOGICAL_SWITCH');
    segTransit = { id: seg?.uplinkId ?? '', name: seg?.uplinkName ?? '' };
    assert.equal(segTransit.name, 'seg-transit');
    await startOperator();
  });
  after(async function () {
    await op?.stop();
    await vcd?.close();
    await sim?.stop();
  });
  beforeEach(async function () {
    // The foreign rule as someone wrote it in the VCD UI: scoped to seg-transit, with comments
    // and a network context profile, none of which the operator's rule bodies use.
    await vcd.firewall.put(edgeId, [
      {
        name: 'ui-allow-dns',
        description: 'owned by the network team',
        comments: 'ticket NET-42; do not touch',
        appliedTo: segTransit,
        networkContextProfiles: [{ id: 'urn:vcloud:networkContextProfile:5b1b3a8e-5e0f-4a4e-9c4e-1f1e1d1c1b1a', name: 'DNS' }],
        actionValue: 'ALLOW',
        direction: 'IN',
        ipProtocol: 'IPV4',
        logging: true,
        enabled: true,
      },
    ]);
    const f = await foreignNow();
    foreignJson = JSON.stringify(f[0]);
    ns = await freshNamespace('fw');
    await createTenantConnection(kube, sim, ns, { org: 'acme' });
  });
  afterEach(async function () {
    const { items } = await kube.list(resources.efw, { namespace: ns });
    for (const it of items) {
      await kube.delete(resources.efw, it.metadata?.name ?? '', ns).catch((err: { code?: number }) => {
        if (err.code !== 404) throw err;
      });
    }
    for (const it of items) await waitFor(kube, resources.efw, ns, it.metadata?.name ?? '', (o) => o === undefined, 30_000);
  });

  it('merges rules from two namespaces above the foreign rule, with inline sets and appliedTo, and leaves the foreign rule byte for byte', async function () {
    const ns2 = await freshNamespace('fw2');
    await createTenantConnection(kube, sim, ns2, { org: 'acme' });
    await kube.create(
      resources.efw,
      edgeFirewallRule(ns, 'web', {
        priority: 20,
        sources: { addresses: ['203.0.113.0/24', '198.51.100.7', '2001:db8::10'] },
        services: { ports: [{ protocol: 'TCP', destinationPorts: ['443', '8080-8090'] }] },
      }),
    );
    await kube.create(
      resources.efw,
      edgeFirewallRule(ns2, 'transit-ssh', { priority: 10, action: 'Drop', appliedTo: 'seg-transit', services: { profiles: [{ name: 'SSH' }] } }),
    );
    // Two connections, two keys on one edge: each key's positions settle once both are written.
    const ssh = await waitFor<RuleObj>(kube, resources.efw, ns2, 'transit-ssh', (o) => isReady(o) && o?.status?.position === 1);
    const web = await waitFor<RuleObj>(kube, resources.efw, ns, 'web', (o) => isReady(o) && o?.status?.position === 2);
    assert.ok(web?.metadata?.finalizers?.includes(FIREWALL_FINALIZER));
    assert.equal(readyOf(web)?.reason, 'Available');
    assert.equal(web?.status?.edgeGatewayId, edgeId);
    assert.equal(web?.status?.edgeGateway, 'acme-edge');
    assert.deepEqual([ssh?.status?.position, web?.status?.position], [1, 2]);

    const rules = await userRules();
    assert.deepEqual(
      rules.map((r) => r['name']),
      [`${ns2}/transit-ssh`, `${ns}/web`, 'ui-allow-dns'],
    );
    assert.equal(rules[0]?.['id'], ssh?.status?.ruleId);
    assert.deepEqual(rules[0]?.['appliedTo'], segTransit);
    assert.equal(rules[0]?.['actionValue'], 'DROP');
    assert.equal(rules[1]?.['description'], formatRuleMarker({ clusterId, namespace: ns, name: 'web', uid: web?.metadata?.uid ?? '' }));
    // Inline addresses and ports live in operator-owned, marked objects.
    const { groups, profiles } = ourSets();
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0]?.ipAddresses, ['198.51.100.7', '2001:db8::10', '203.0.113.0/24']);
    assert.equal(groups[0]?.description, formatObjectMarker({ clusterId, edgeId }));
    assert.equal(profiles.length, 1);
    await assertForeignUnchanged();
    await kube.delete(resources.efw, 'transit-ssh', ns2);
    await waitFor(kube, resources.efw, ns2, 'transit-ssh', (o) => o === undefined);
  });

  it('keeps rule ids through updates and inserts; an unchanged edge costs no write', async function () {
    await kube.create(resources.efw, edgeFirewallRule(ns, 'a', { priority: 10 }));
    await kube.create(resources.efw, edgeFirewallRule(ns, 'b', { priority: 20 }));
    const a = await waitFor<RuleObj>(kube, resources.efw, ns, 'a', isReady);
    const b = await waitFor<RuleObj>(kube, resources.efw, ns, 'b', (o) => isReady(o) && o?.status?.position === 2);
    const idA = a?.status?.ruleId;
    const idB = b?.status?.ruleId;

    // At rest: resyncs read, never write.
    const seq = lastSeq();
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(writesSince(seq), 0);

    // A change to b, and a new rule above both.
    await kube.patch(resources.efw, 'b', ns, { spec: { action: 'Reject' } });
    await kube.create(resources.efw, edgeFirewallRule(ns, 'top', { priority: 1 }));
    await waitFor<RuleObj>(kube, resources.efw, ns, 'top', isReady);
    await waitFor<RuleObj>(kube, resources.efw, ns, 'b', (o) => o?.status?.position === 3);
    const rules = await userRules();
    assert.deepEqual(
      rules.map((r) => r['name']),
      [`${ns}/top`, `${ns}/a`, `${ns}/b`, 'ui-allow-dns'],
    );
    assert.equal(rules[1]?.['id'], idA);
    assert.equal(rules[2]?.['id'], idB);
    assert.equal(rules[2]?.['actionValue'], 'REJECT');
    await assertForeignUnchanged();
  });

  it('reports an appliedTo that is not a service interface, naming those that exist, while its neighbour converges', async function () {
    await kube.create(resources.efw, edgeFirewallRule(ns, 'bad', { appliedTo: 'acme-app' }));
    await kube.create(resources.efw, edgeFirewallRule(ns, 'good', { priority: 5 }));
    const bad = await waitFor<RuleObj>(kube, resources.efw, ns, 'bad', hasReason('InterfaceNotFound'));
    assert.match(
      readyOf(bad)?.message ?? '',
      /acme-app is not a service interface of edge gateway acme-edge; its service interfaces are acme-web, seg-transit/,
    );
    await waitFor(kube, resources.efw, ns, 'good', isReady);
    assert.deepEqual(
      (await managed()).map((r) => r['name']),
      [`${ns}/good`],
    );
    await assertForeignUnchanged();
  });

  it('restores a managed rule deleted or edited by hand at the next resync, with its id when only edited', async function () {
    await kube.create(resources.efw, edgeFirewallRule(ns, 'keep', {}));
    const obj = await waitFor<RuleObj>(kube, resources.efw, ns, 'keep', isReady);
    const id = obj?.status?.ruleId;
    // Edited in the UI: action flipped.
    await vcd.firewall.put(edgeId, (await userRules()).map((r) => (r['id'] === id ? { ...r, actionValue: 'DROP' } : r)) as never);
    await waitForRules((rs) => rs.some((r) => r['id'] === id && r['actionValue'] === 'ALLOW'));
    // Deleted in the UI.
    await vcd.firewall.put(edgeId, (await userRules()).filter((r) => r['id'] !== id) as never);
    const rules = await waitForRules((rs) => rs.some((r) => r['name'] === `${ns}/keep`));
    assert.equal(rules.filter((r) => r['name'] === `${ns}/keep`).length, 1);
    await waitFor<RuleObj>(kube, resources.efw, ns, 'keep', (o) => isReady(o) && o?.status?.ruleId !== id);
    await assertForeignUnchanged();
  });

  it('deletion removes only that rule and the sets only it used; the last deletion leaves the foreign rule as it was and nothing behind', async function () {
    const shared = { sources: { addresses: ['10.1.1.0/24'] } };
    await kube.create(resources.efw, edgeFirewallRule(ns, 'one', { ...shared, destinations: { addresses: ['10.9.9.9'] } }));
    await kube.create(resources.efw, edgeFirewallRule(ns, 'two', shared));
    await waitFor(kube, resources.efw, ns, 'one', isReady);
    await waitFor(kube, resources.efw, ns, 'two', isReady);
    assert.equal(ourSets().groups.length, 2, 'identical source sets share one IP set');
    await kube.delete(resources.efw, 'one', ns);
    await waitFor(kube, resources.efw, ns, 'one', (o) => o === undefined);
    assert.deepEqual(
      (await managed()).map((r) => r['name']),
      [`${ns}/two`],
    );
    assert.deepEqual(
      ourSets().groups.map((g) => g.ipAddresses),
      [['10.1.1.0/24']],
    );
    await kube.delete(resources.efw, 'two', ns);
    await waitFor(kube, resources.efw, ns, 'two', (o) => o === undefined);
    assert.deepEqual(await managed(), []);
    assert.deepEqual(ourSets(), { groups: [], profiles: [] });
    await assertForeignUnchanged();
  });

  it('reclaimPolicy Retain leaves the rule in place without the marker', async function () {
    await kube.create(resources.efw, edgeFirewallRule(ns, 'kept', { reclaimPolicy: 'Retain' }));
    const obj = await waitFor<RuleObj>(kube, resources.efw, ns, 'kept', isReady);
    await kube.delete(resources.efw, 'kept', ns);
    await waitFor(kube, resources.efw, ns, 'kept', (o) => o === undefined);
    const left = (await userRules()).find((r) => r['id'] === obj?.status?.ruleId);
    assert.ok(left, 'the retained rule is still there');
    assert.equal(parseRuleMarker(left['description']), undefined);
    // Clean up as its new owner would, by hand.
    await vcd.firewall.put(edgeId, (await userRules()).filter((r) => r['id'] !== obj?.status?.ruleId) as never);
  });

  it("through a tenant connection VCD's own rights apply: another org's edge is not found and nothing is written", async function () {
    const other = await freshNamespace('fwglobex');
    await createTenantConnection(kube, sim, other, { org: 'globex' });
    const seq = lastSeq();
    await kube.create(resources.efw, edgeFirewallRule(other, 'intrude', { connection: 'globex-conn', action: 'Allow' }));
    const refused = await waitFor<RuleObj>(kube, resources.efw, other, 'intrude', hasReason('EdgeGatewayNotFound'));
    assert.match(readyOf(refused)?.message ?? '', /acme-edge/);
    assert.equal(writesSince(seq), 0);
    await assertForeignUnchanged();
    await kube.delete(resources.efw, 'intrude', other);
    await waitFor(kube, resources.efw, other, 'intrude', (o) => o === undefined);
  });

  it("through a provider connection, a namespace bound to another org is refused on acme's edge with zero VCD writes; a bound one writes", async function () {
    const bound = await freshNamespace('fwbound');
    const provider = await createProviderConnection(kube, sim, opNs, {
      allowedNamespaces: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [ns, bound] }] },
      tenants: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } }, orgs: ['globex'] },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': bound } }, orgs: ['acme'] },
      ],
    });
    const viaProvider = { connectionRef: { kind: 'ClusterVCDConnection' as const, name: provider }, org: { name: 'acme' } };
    const seq = lastSeq();
    const callsBefore = sim.admin
      .counters()
      .filter((c) => c.route.includes('/edgeGateways'))
      .reduce((n, c) => n + c.count, 0);
    await kube.create(resources.efw, edgeFirewallRule(ns, 'not-mine', viaProvider));
    const refused = await waitFor<RuleObj>(kube, resources.efw, ns, 'not-mine', hasReason('OrgNotAllowed'));
    assert.match(readyOf(refused)?.message ?? '', /not to org acme/);
    assert.equal(writesSince(seq), 0);
    // Not even a read of the edge: the binding is checked before any call.
    assert.equal(
      sim.admin
        .counters()
        .filter((c) => c.route.includes('/edgeGateways'))
        .reduce((n, c) => n + c.count, 0),
      callsBefore,
    );

    await kube.create(resources.efw, edgeFirewallRule(bound, 'mine', viaProvider));
    await waitFor(kube, resources.efw, bound, 'mine', isReady);
    assert.deepEqual(
      (await managed()).map((r) => r['name']),
      [`${bound}/mine`],
    );
    await assertForeignUnchanged();
    await kube.delete(resources.efw, 'mine', bound);
    await waitFor(kube, resources.efw, bound, 'mine', (o) => o === undefined);
  });

  it('waits out BUSY_ENTITY while another writer holds the edge, and survives a lost response to its PUT', async function () {
    // Another writer's PUT holds the edge for two seconds.
    sim.admin.addFault({ route: PUT_RULES, kind: 'slow-task', delayMs: 2000, times: 1 });
    const other = await VcdClient.connect({
      url: sim.vcd.url,
      org: 'acme',
      auth: { apiToken: sim.credentials.tenants.find((t) => t.org === 'acme')?.apiToken ?? '' },
      caPem: sim.caPem,
    });
    const seq = lastSeq();
    const holding = other.firewall.put(edgeId, (await userRules()) as never);
    await new Promise((r) => setTimeout(r, 200));
    await kube.create(resources.efw, edgeFirewallRule(ns, 'patient', {}));
    await waitFor(kube, resources.efw, ns, 'patient', isReady, 30_000);
    await holding;
    await other.close();
    assert.ok(
      sim.admin.audit(seq).some((e) => e.route === PUT_RULES && e.status === 400),
      'the operator met BUSY_ENTITY',
    );

    // The next PUT commits but its answer is lost: the rule is there exactly once.
    sim.admin.addFault({ route: PUT_RULES, kind: 'drop-after-commit', times: 1 });
    await kube.create(resources.efw, edgeFirewallRule(ns, 'lost', { priority: 1 }));
    await waitFor(kube, resources.efw, ns, 'lost', isReady, 30_000);
    const names = (await managed()).map((r) => r['name']);
    assert.deepEqual(names, [`${ns}/lost`, `${ns}/patient`]);
    await assertForeignUnchanged();
  });

  it('after a crash between writes, a restart converges: orphaned rules and sets are removed, every rule once', async function () {
    await kube.create(resources.efw, edgeFirewallRule(ns, 'live', { sources: { addresses: ['10.2.2.2'] } }));
    await waitFor(kube, resources.efw, ns, 'live', isReady);
    await op.stop();
    // What a crash can leave: an IP set created but never used, a duplicate of a live rule, and
    // the rule of an object deleted while the operator was down.
    const marker = formatObjectMarker({ clusterId, edgeId });
    await vcd.firewallGroups.create({
      name: 'vcdop-ips-0000000000000000',
      description: marker,
      typeValue: 'IP_SET',
      ipAddresses: ['10.3.3.3'],
      ownerRef: { id: edgeId },
    });
    const rules = await userRules();
    const live = rules.find((r) => r['name'] === `${ns}/live`) ?? {};
    const ghost = { name: `${ns}/ghost`, description: formatRuleMarker({ clusterId, namespace: ns, name: 'ghost', uid: 'no-such-uid' }), actionValue: 'ALLOW' };
    const dup = { ...live, id: undefined, version: undefined };
    await vcd.firewall.put(edgeId, [...rules, dup, ghost] as never);
    await startOperator();
    const converged = await waitForRules(
      (rs) => rs.filter((r) => parseRuleMarker(r['description'])?.clusterId === clusterId).length === 1 && !rs.some((r) => r['name'] === `${ns}/ghost`),
    );
    assert.deepEqual(
      converged.filter((r) => parseRuleMarker(r['description'])).map((r) => r['name']),
      [`${ns}/live`],
    );
    await waitForCondition(() => !ourSets().groups.some((g) => g.name === 'vcdop-ips-0000000000000000'));
    await assertForeignUnchanged();
  });

  async function waitForRules(ok: (rules: Raw[]) => boolean, timeoutMs = 20_000): Promise<Raw[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rules = await userRules();
      if (ok(rules)) return rules;
      if (Date.now() > deadline) throw new Error(`timed out; rules: ${JSON.stringify(rules.map((r) => r['name']))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  async function waitForCondition(ok: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});
