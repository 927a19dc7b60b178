import assert from 'node:assert/strict';
import type { EdgeFirewallRule } from '../../../src/api/index.ts';
import { canonicalAddresses, canonicalPorts, ipSetName, projection, ruleBody } from '../../../src/controllers/firewall/desired.ts';
import { formatObjectMarker, formatRuleMarker, parseObjectMarker, parseRuleMarker } from '../../../src/controllers/firewall/marker.ts';
import { managedRules, planList, unusedOwned, type DesiredEntry, type ListPlanInput, type RawRule } from '../../../src/controllers/firewall/plan.ts';

const cluster = 'c0ffee00-0000-4000-8000-000000000001';
const other = 'c0ffee00-0000-4000-8000-000000000002';

function obj(n: string, ns = 'team-a', spec: Partial<EdgeFirewallRule['spec']> = {}): EdgeFirewallRule {
  return {
    apiVersion: 'vcd-operator.io/v1alpha1',
    kind: 'EdgeFirewallRule',
    metadata: { name: n, namespace: ns, uid: `uid-${ns}-${n}` },
    spec: { connectionRef: { kind: 'VCDConnection', name: 'acme' }, edgeGateway: { name: 'acme-edge' }, action: 'Allow', ...spec },
  };
}
function want(n: string, priority = 1000, ns = 'team-a', spec: Partial<EdgeFirewallRule['spec']> = {}): DesiredEntry {
  const o = obj(n, ns, spec);
  return { uid: `uid-${ns}-${n}`, namespace: ns, name: n, priority, body: ruleBody(o, cluster, { sources: [], destinations: [], profiles: [] }) };
}
/** A rule as VCD stores a desired entry: id, version, action, names in refs. */
function stored(d: DesiredEntry, id: string, extra: RawRule = {}): RawRule {
  return { id, ...d.body, action: d.body['actionValue'], version: { version: 3 }, ...extra };
}
// A foreign rule with fields our types do not model, and one VCD may add later.
const foreign = (id: string): RawRule => ({
  id,
  name: `ui-${id}`,
  comments: 'made in the UI',
  appliedTo: { id: 'urn:vcloud:network:1', name: 'seg-transit' },
  networkContextProfiles: [{ id: 'urn:vcloud:networkContextProfile:9', name: 'SSL' }],
  actionValue: 'DROP',
  futureField: { nested: [1, 2, 3] },
  version: { version: 7 },
});
function run(p: Partial<ListPlanInput>) {
  return planList({ clusterId: cluster, current: [], desired: [], held: [], released: new Map(), placement: 'top', ...p });
}
const names = (rules: RawRule[]) => rules.map((r) => r['name']);

describe('firewall markers', function () {
  it('round-trip and ignore foreign descriptions', function () {
    const m = { clusterId: cluster, namespace: 'team-a', name: 'web', uid: 'u-1' };
    assert.deepEqual(parseRuleMarker(formatRuleMarker(m)), m);
    assert.deepEqual(parseObjectMarker(formatObjectMarker({ clusterId: cluster, edgeId: 'urn:vcloud:gateway:1' })), {
      clusterId: cluster,
      edgeId: 'urn:vcloud:gateway:1',
    });
    for (const d of [undefined, '', 'allow web', 42, 'vcd-operator.io cluster=x FloatingIPClaim=a/b uid=c']) assert.equal(parseRuleMarker(d), undefined);
  });
});

describe('inline sets', function () {
  it('are canonical, so identical sets share one name', function () {
    assert.deepEqual(canonicalAddresses(['10.0.0.2', ' 10.0.0.1', '10.0.0.2', '2001:DB8::1']), ['10.0.0.1', '10.0.0.2', '2001:db8::1']);
    assert.equal(ipSetName('e', canonicalAddresses(['10.0.0.1', '10.0.0.2'])), ipSetName('e', canonicalAddresses(['10.0.0.2', '10.0.0.1'])));
    assert.notEqual(ipSetName('e1', ['10.0.0.1']), ipSetName('e2', ['10.0.0.1']));
    assert.deepEqual(
      canonicalPorts([{ protocol: 'TCP', destinationPorts: ['443', '80'] }, { protocol: 'TCP', destinationPorts: ['80'] }, { protocol: 'ICMPv4' }]),
      [
        { protocol: 'ICMPv4', destinationPorts: [] },
        { protocol: 'TCP', destinationPorts: ['80', '443'] },
      ],
    );
  });
});

describe('firewall list planning', function () {
  const cases: Array<{ name: string; input: Partial<ListPlanInput>; names: unknown[]; changed: boolean; dropped?: number }> = [
    { name: 'empty edge, no rules: nothing to write', input: {}, names: [], changed: false },
    {
      name: 'new rules go before the foreign ones by default',
      input: { current: [foreign('f1'), foreign('f2')], desired: [want('b'), want('a')] },
      names: ['team-a/a', 'team-a/b', 'ui-f1', 'ui-f2'],
      changed: true,
    },
    {
      name: 'placement bottom puts them after',
      input: { current: [foreign('f1'), foreign('f2')], desired: [want('b'), want('a')], placement: 'bottom' },
      names: ['ui-f1', 'ui-f2', 'team-a/a', 'team-a/b'],
      changed: true,
    },
    {
      name: 'priority first, then namespace/name',
      input: { desired: [want('z', 10, 'team-b'), want('a', 20, 'team-a'), want('m', 10, 'team-a')] },
      names: ['team-a/m', 'team-b/z', 'team-a/a'],
      changed: true,
    },
    {
      name: 'in place and equal: no write',
      input: { current: [stored(want('a'), 'r1'), foreign('f1')], desired: [want('a')] },
      names: ['team-a/a', 'ui-f1'],
      changed: false,
    },
    {
      name: 'a foreign rule found inside the block moves below it (top)',
      input: { current: [stored(want('a', 1), 'r1'), foreign('f1'), stored(want('b', 2), 'r2')], desired: [want('a', 1), want('b', 2)] },
      names: ['team-a/a', 'team-a/b', 'ui-f1'],
      changed: true,
    },
    {
      name: 'an edited managed rule is restored',
      input: { current: [stored(want('a'), 'r1', { actionValue: 'DROP' })], desired: [want('a')] },
      names: ['team-a/a'],
      changed: true,
    },
    {
      name: 'a hand-deleted managed rule is recreated',
      input: { current: [foreign('f1')], desired: [want('a')] },
      names: ['team-a/a', 'ui-f1'],
      changed: true,
    },
    {
      name: 'duplicates collapse to the first',
      input: { current: [stored(want('a'), 'r1'), stored(want('a'), 'r2'), foreign('f1')], desired: [want('a')] },
      names: ['team-a/a', 'ui-f1'],
      changed: true,
      dropped: 1,
    },
    {
      name: 'a marked rule of a vanished object is dropped',
      input: { current: [stored(want('gone'), 'r9'), foreign('f1')], desired: [] },
      names: ['ui-f1'],
      changed: true,
      dropped: 1,
    },
    {
      name: "another cluster's marked rule is foreign",
      input: { current: [{ ...stored(want('x'), 'r9'), description: formatRuleMarker({ clusterId: other, namespace: 'team-a', name: 'x', uid: 'u-x' }) }] },
      names: ['team-a/x'],
      changed: false,
    },
    {
      name: 'held rules stay as VCD has them, in block order',
      input: {
        current: [stored(want('a', 5), 'r1', { actionValue: 'DROP' }), foreign('f1')],
        desired: [want('b', 1)],
        held: [{ uid: 'uid-team-a-a', namespace: 'team-a', name: 'a', priority: 5 }],
      },
      names: ['team-a/b', 'team-a/a', 'ui-f1'],
      changed: true,
    },
    {
      name: 'deleting the last rule leaves foreign rules as they were',
      input: { current: [stored(want('a'), 'r1'), foreign('f1'), foreign('f2')], released: new Map([['uid-team-a-a', 'Delete' as const]]) },
      names: ['ui-f1', 'ui-f2'],
      changed: true,
      dropped: 1,
    },
  ];
  for (const c of cases) {
    it(c.name, function () {
      const p = run(c.input);
      assert.deepEqual(names(p.rules), c.names);
      assert.equal(p.changed, c.changed);
      if (c.dropped !== undefined) assert.equal(p.dropped.length, c.dropped);
    });
  }

  it('carries foreign rules through byte for byte, unknown fields included', function () {
    const f1 = foreign('f1');
    const before = JSON.stringify(f1);
    const p = run({ current: [foreign('f0'), stored(want('a'), 'r1'), f1], desired: [want('a', 1000, 'team-a', { action: 'Drop' }), want('b')] });
    const out = p.rules.find((r) => r['id'] === 'f1');
    assert.equal(JSON.stringify(out), before);
    assert.deepEqual(
      p.rules.filter((r) => String(r['id']).startsWith('f')).map((r) => r['id']),
      ['f0', 'f1'],
    );
  });

  it('keeps ids and versions of managed rules; a new rule above does not recreate them', function () {
    const p = run({ current: [stored(want('b', 2), 'r2')], desired: [want('a', 1), want('b', 2)] });
    assert.deepEqual(
      p.rules.map((r) => r['id']),
      [undefined, 'r2'],
    );
    assert.deepEqual(p.rules[1]?.['version'], { version: 3 });
  });

  it('unmarks a retained rule and keeps it where it was', function () {
    const p = run({ current: [foreign('f0'), stored(want('a'), 'r1'), foreign('f1')], released: new Map([['uid-team-a-a', 'Retain' as const]]) });
    assert.deepEqual(
      p.rules.map((r) => r['id']),
      ['f0', 'r1', 'f1'],
    );
    assert.equal(p.changed, true);
    assert.deepEqual(p.unmarked, ['uid-team-a-a']);
    assert.equal(parseRuleMarker(p.rules[1]?.['description']), undefined);
    assert.equal(managedRules(cluster, p.rules).size, 0);
  });

  it('ignores what VCD adds on read when comparing (names in refs, action, version)', function () {
    const d = want('a');
    d.body['sourceFirewallGroups'] = [{ id: 'g2' }, { id: 'g1' }];
    const p = run({
      current: [
        stored(d, 'r1', {
          sourceFirewallGroups: [
            { id: 'g1', name: 'one' },
            { id: 'g2', name: 'two' },
          ],
        }),
      ],
      desired: [d],
    });
    assert.equal(p.changed, false);
    assert.equal(projection(d.body), projection({ ...d.body, sourceFirewallGroups: [{ id: 'g1' }, { id: 'g2' }] }));
  });

  it('finds owned objects no rule uses any more', function () {
    const rules: RawRule[] = [{ sourceFirewallGroups: [{ id: 'g1' }] }, { applicationPortProfiles: [{ id: 'p1' }] }];
    const ours = formatObjectMarker({ clusterId: cluster, edgeId: 'e' });
    const owned = [
      { id: 'g1', description: ours },
      { id: 'g2', description: ours },
      { id: 'g3', description: 'someone else' },
      { id: 'p1', description: ours },
    ];
    assert.deepEqual(
      unusedOwned(owned, rules, (d) => d === ours).map((o) => o.id),
      ['g2'],
    );
  });
});

describe('firewall key', function () {
  it('is the edge as seen through one connection and org, whatever the field order', async function () {
    const { edgeKeyCodec, edgeKeyOf } = await import('../../../src/controllers/firewall/key.ts');
    const a = obj('a', 'team-a');
    const b = obj('b', 'team-a', { priority: 3, action: 'Drop' });
    assert.equal(edgeKeyCodec.encode(edgeKeyOf(a)), edgeKeyCodec.encode(edgeKeyOf(b)));
    const other = obj('c', 'team-b');
    assert.notEqual(edgeKeyCodec.encode(edgeKeyOf(a)), edgeKeyCodec.encode(edgeKeyOf(other)), 'a VCDConnection is per namespace');
    const p1 = obj('p1', 'team-a', { connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' }, org: { name: 'acme' } });
    const p2 = obj('p2', 'team-b', { connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' }, org: { name: 'acme' } });
    assert.equal(edgeKeyCodec.encode(edgeKeyOf(p1)), edgeKeyCodec.encode(edgeKeyOf(p2)), 'a provider connection joins namespaces on one edge');
    assert.deepEqual(edgeKeyCodec.decode(edgeKeyCodec.encode(edgeKeyOf(p1))), edgeKeyOf(p1));
    assert.equal(edgeKeyCodec.decode('claims:{"x":1}'), undefined);
  });
});
