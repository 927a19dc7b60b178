import assert from 'node:assert/strict';
import { groupKeyOf, groupKeys, type Claim } from '../../../src/controllers/ipam/group.ts';

const parseGroupKey = (text: string) => groupKeys.decode(text);
const encoded = (c: Claim) => groupKeys.encode(groupKeyOf(c));
import { formatMarker, parseMarker } from '../../../src/reconcile/index.ts';
import { plan, type Action, type AllocationView, type ClaimView, type PlanInput } from '../../../src/controllers/ipam/plan.ts';

const cluster = 'c0ffee00-0000-4000-8000-000000000001';
const now = new Date('2026-11-21T10:00:00Z');

function claim(n: number, extra: Partial<ClaimView> = {}): ClaimView {
  return { uid: `uid-${n}`, namespace: 'team-a', name: `c${n}`, deleting: false, reclaimPolicy: 'Delete', ...extra };
}
function marked(n: number, id: string, value: string, extra: Partial<AllocationView> = {}): AllocationView {
  return {
    id,
    value,
    usageState: 'USED_MANUAL',
    description: formatMarker({ clusterId: cluster, kind: 'FloatingIPClaim', namespace: 'team-a', name: `c${n}`, uid: `uid-${n}` }),
    allocationDate: new Date(now.getTime() - 60_000),
    ...extra,
  };
}
function unmarkedAt(id: string, value: string, at: Date): AllocationView {
  return { id, value, usageState: 'UNUSED', allocationDate: at };
}
function run(p: Partial<PlanInput>): Action[] {
  const claims = p.claims ?? [];
  return plan({
    clusterId: cluster,
    kind: 'FloatingIPClaim',
    claims,
    allocations: [],
    liveClaimUids: new Set(claims.map((c) => c.uid)),
    namespaceInScope: () => true,
    now,
    pendingWindowMs: 60_000,
    ...p,
  });
}
const kinds = (actions: Action[]) => actions.map((a) => a.kind);

describe('ownership marker', function () {
  it('round-trips and flags retained allocations', function () {
    const m = { clusterId: cluster, kind: 'IPPrefixClaim' as const, namespace: 'ns', name: 'n-1', uid: 'u-1' };
    assert.deepEqual(parseMarker(formatMarker(m)), { ...m, retained: false });
    assert.deepEqual(parseMarker(formatMarker({ ...m, retained: true })), { ...m, retained: true });
  });
  it('does not mistake a foreign description for a marker', function () {
    for (const d of [undefined, '', 'used by the web tier', 'vcd-operator.io cluster=x', 'vcd-operator.io cluster=a Foo=ns/n uid=u']) {
      assert.equal(parseMarker(d), undefined, String(d));
    }
  });
});

describe('IP allocation planning', function () {
  it('batches new claims five at a time', function () {
    const claims = Array.from({ length: 12 }, (_, i) => claim(i));
    const actions = run({ claims });
    assert.deepEqual(kinds(actions), ['allocate', 'allocate', 'allocate']);
    assert.deepEqual(
      actions.map((a) => (a.kind === 'allocate' ? a.claims.length : 0)),
      [5, 5, 2],
    );
  });

  it('batches prefix claims by prefix length and specific values one by one', function () {
    const claims = [
      claim(1, { prefixLength: 28 }),
      claim(2, { prefixLength: 29 }),
      claim(3, { prefixLength: 28 }),
      claim(4, { requestedValue: '198.51.100.32/28' }),
    ];
    const actions = run({ claims, kind: 'IPPrefixClaim' });
    assert.deepEqual(kinds(actions), ['allocateValue', 'allocate', 'allocate']);
    const batches = actions.flatMap((a) => (a.kind === 'allocate' ? [[a.prefixLength, a.claims.map((c) => c.name)]] : []));
    assert.deepEqual(batches, [
      [28, ['c1', 'c3']],
      [29, ['c2']],
    ]);
  });

  it('binds a claim to its marked allocation instead of allocating again', function () {
    const actions = run({ claims: [claim(1)], allocations: [marked(1, 'a1', '203.0.113.10')] });
    assert.deepEqual(kinds(actions), ['bind']);
  });

  it('adopts an unmarked allocation made after the pending guard was set (crash between allocate and mark)', function () {
    const pendingSince = new Date(now.getTime() - 10_000);
    const foreignOld = unmarkedAt('old', '203.0.113.50', new Date(now.getTime() - 3_600_000));
    const ours = unmarkedAt('new', '203.0.113.51', new Date(now.getTime() - 9_000));
    const actions = run({ claims: [claim(1, { pendingSince })], allocations: [foreignOld, ours] });
    assert.equal(actions.length, 1);
    assert.equal(actions[0]?.kind, 'adopt');
    assert.equal(actions[0]?.kind === 'adopt' && actions[0].allocation.id, 'new');
  });

  it('takes back the allocation its status names when it was left unmarked half-way', function () {
    const left = unmarkedAt('a7', '203.0.113.7', new Date(now.getTime() - 3_600_000));
    const live = run({ claims: [claim(1, { statusAllocationId: 'a7' })], allocations: [left] });
    assert.deepEqual(kinds(live), ['adopt']);
    const deleting = run({ claims: [claim(1, { statusAllocationId: 'a7', deleting: true })], allocations: [left] });
    assert.deepEqual(
      deleting.map((a) => [a.kind, 'allocation' in a ? a.allocation.id : '']),
      [['release', 'a7']],
    );
  });

  it('leaves an unmarked allocation that one claim’s status names to that claim, even when another guarded claim comes first', function () {
    const since = new Date(now.getTime() - 2_000);
    const x = unmarkedAt('x', '203.0.113.10', new Date(now.getTime() - 1_000));
    const y = unmarkedAt('y', '203.0.113.11', new Date(now.getTime() - 1_000));
    const actions = run({
      claims: [claim(2, { pendingSince: since }), claim(1, { pendingSince: since, statusAllocationId: 'x' })],
      allocations: [x, y],
      adoptable: new Set(['x', 'y']),
      outcomesKnown: true,
    });
    assert.deepEqual(
      actions.map((a) => [a.kind, 'claim' in a ? a.claim?.uid : '', 'allocation' in a ? a.allocation.id : '']),
      [
        ['adopt', 'uid-2', 'y'],
        ['adopt', 'uid-1', 'x'],
      ],
    );
  });

  it('never adopts unmarked allocations without a pending guard', function () {
    const actions = run({ claims: [claim(1)], allocations: [unmarkedAt('x', '203.0.113.51', now)] });
    assert.deepEqual(kinds(actions), ['allocate']);
  });

  it('gives each pending claim its own allocation', function () {
    const pendingSince = new Date(now.getTime() - 10_000);
    const allocations = [unmarkedAt('a', '203.0.113.60', new Date(now.getTime() - 9_000)), unmarkedAt('b', '203.0.113.61', new Date(now.getTime() - 9_000))];
    const actions = run({ claims: [claim(1, { pendingSince }), claim(2, { pendingSince }), claim(3, { pendingSince })], allocations });
    assert.deepEqual(kinds(actions), ['adopt', 'adopt', 'wait']);
    const ids = actions.flatMap((a) => (a.kind === 'adopt' ? [a.allocation.id] : []));
    assert.deepEqual(ids.sort(), ['a', 'b']);
  });

  it('waits while a lost allocate may still complete, and allocates again only after the window', function () {
    const recent = run({ claims: [claim(1, { pendingSince: new Date(now.getTime() - 5_000) })] });
    assert.deepEqual(kinds(recent), ['wait']);
    assert.equal(recent[0]?.kind === 'wait' && recent[0].until.getTime(), now.getTime() + 55_000);
    const expired = run({ claims: [claim(1, { pendingSince: new Date(now.getTime() - 61_000) })] });
    assert.deepEqual(kinds(expired), ['allocate']);
  });

  it('allocates again at once when VCD says every allocate since the guard has ended, after adopting what they made', function () {
    const pendingSince = new Date(now.getTime() - 5_000);
    const allocations = [unmarkedAt('a', '203.0.113.60', new Date(now.getTime() - 4_000))];
    const actions = run({ claims: [claim(1, { pendingSince }), claim(2, { pendingSince })], allocations, outcomesKnown: true });
    assert.deepEqual(kinds(actions), ['adopt', 'allocate']);
    const deleting = run({ claims: [claim(3, { pendingSince, deleting: true })], outcomesKnown: true });
    assert.deepEqual(kinds(deleting), ['finalize'], 'a deleted claim whose allocate never landed lets go at once');
  });

  it('adopts only what VCD says its allocate tasks made, never an unmarked allocation someone else made meanwhile', function () {
    const pendingSince = new Date(now.getTime() - 5_000);
    const ours = unmarkedAt('ours', '203.0.113.60', new Date(now.getTime() - 4_000));
    const foreign = unmarkedAt('foreign', '203.0.113.61', new Date(now.getTime() - 3_000));
    const actions = run({
      claims: [claim(1, { pendingSince }), claim(2, { pendingSince })],
      allocations: [foreign, ours],
      outcomesKnown: true,
      adoptable: new Set(['ours']),
    });
    assert.deepEqual(kinds(actions), ['adopt', 'allocate']);
    assert.deepEqual(
      actions.flatMap((a) => (a.kind === 'adopt' ? [a.allocation.id] : [])),
      ['ours'],
    );
  });

  it('releases duplicates, keeping the allocation the status names', function () {
    const a1 = marked(1, 'a1', '203.0.113.10', { allocationDate: new Date(now.getTime() - 1000) });
    const a2 = marked(1, 'a2', '203.0.113.11', { allocationDate: new Date(now.getTime() - 2000) });
    const actions = run({ claims: [claim(1, { statusAllocationId: 'a1' })], allocations: [a1, a2] });
    assert.deepEqual(
      actions.map((a) => [a.kind, 'allocation' in a ? a.allocation.id : '']),
      [
        ['release', 'a2'],
        ['bind', 'a1'],
      ],
    );
  });

  it('on delete releases with Delete, retains with Retain, and finalizes when nothing is held', function () {
    const actions = run({
      claims: [claim(1, { deleting: true }), claim(2, { deleting: true, reclaimPolicy: 'Retain' }), claim(3, { deleting: true })],
      allocations: [marked(1, 'a1', '203.0.113.10'), marked(2, 'a2', '203.0.113.11')],
    });
    assert.deepEqual(kinds(actions), ['release', 'retain', 'finalize']);
  });

  it('releases marked allocations whose claim no longer exists, but not retained or foreign ones', function () {
    const retained = marked(7, 'r', '203.0.113.70', {
      description: formatMarker({ clusterId: cluster, kind: 'FloatingIPClaim', namespace: 'team-a', name: 'c7', uid: 'uid-7', retained: true }),
    });
    const otherCluster = marked(8, 'o', '203.0.113.80', {
      description: formatMarker({ clusterId: 'other', kind: 'FloatingIPClaim', namespace: 'team-a', name: 'c8', uid: 'uid-8' }),
    });
    const actions = run({ claims: [], allocations: [marked(9, 'gone', '203.0.113.90'), retained, otherCluster] });
    assert.deepEqual(
      actions.map((a) => [a.kind, 'allocation' in a ? a.allocation.id : '']),
      [['release', 'gone']],
    );
  });

  it('leaves alone allocations of live claims in other groups and of namespaces outside the watch scope', function () {
    const otherGroup = marked(5, 'g', '203.0.113.55');
    const outOfScope = marked(6, 's', '203.0.113.56', {
      description: formatMarker({ clusterId: cluster, kind: 'FloatingIPClaim', namespace: 'team-b', name: 'c6', uid: 'uid-6' }),
    });
    const actions = run({
      claims: [],
      allocations: [otherGroup, outOfScope],
      liveClaimUids: new Set(['uid-5']),
      namespaceInScope: (ns) => ns === 'team-a',
    });
    assert.deepEqual(actions, []);
  });

  it('ignores allocations of the other claim kind', function () {
    const prefix = marked(1, 'p', '198.51.100.0/28', {
      description: formatMarker({ clusterId: cluster, kind: 'IPPrefixClaim', namespace: 'team-a', name: 'c1', uid: 'uid-1' }),
    });
    assert.deepEqual(kinds(run({ claims: [claim(1)], allocations: [prefix] })), ['allocate']);
  });
});

describe('allocation group keys', function () {
  const claim = (spec: Record<string, unknown>, namespace = 'team-a') => ({ metadata: { namespace }, spec }) as unknown as Claim;

  it('round-trips every kind of reference', function () {
    const cases = [
      claim({ connectionRef: { kind: 'VCDConnection', name: 'acme' }, ipSpace: { name: 'public-ips' } }),
      claim({ connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' }, org: { name: 'acme' }, ipSpace: { id: 'urn:vcloud:ipSpace:1a' } }),
      claim({ connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' }, org: { id: 'urn:vcloud:org:9' }, ipSpace: { name: 'odd|name with spaces' } }),
    ];
    assert.deepEqual(parseGroupKey(encoded(cases[0]!)), {
      connectionRef: { kind: 'VCDConnection', name: 'acme' },
      namespace: 'team-a',
      ipSpace: { name: 'public-ips' },
    });
    assert.deepEqual(parseGroupKey(encoded(cases[1]!)), {
      connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' },
      org: { name: 'acme' },
      ipSpace: { id: 'urn:vcloud:ipSpace:1a' },
    });
    assert.deepEqual(parseGroupKey(encoded(cases[2]!)), {
      connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' },
      org: { id: 'urn:vcloud:org:9' },
      ipSpace: { name: 'odd|name with spaces' },
    });
  });

  it('rejects keys it did not make', function () {
    for (const k of [
      'team-a/web',
      '',
      'VCDConnection/a/b|ipSpace:name=x',
      'Foo/x|org:|ipSpace:name=y',
      'allocation-group:{"ipSpace":{}}',
      'edge:{"ipSpace":{"name":"x"}}',
    ])
      assert.equal(parseGroupKey(k), undefined, k);
  });

  it('encodes equal references equally, whatever their field order', function () {
    const a = claim({ connectionRef: { name: 'provider', kind: 'ClusterVCDConnection' }, ipSpace: { name: 'x' }, org: { name: 'acme' } });
    const b = claim({ org: { name: 'acme' }, ipSpace: { name: 'x' }, connectionRef: { kind: 'ClusterVCDConnection', name: 'provider' } }, 'other-namespace');
    assert.equal(encoded(a), encoded(b), 'a ClusterVCDConnection group does not depend on the namespace');
  });
});
