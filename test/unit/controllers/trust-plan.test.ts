// The trust planner, table-style: what to add and prune for a given mesh, and how much of it holds.
// Roots here are stand-ins with made-up fingerprints; the planner compares fingerprints only.
import assert from 'node:assert/strict';
import { chainIdOf, clusterTagOf, isOperatorChain, isOwnChain, type Root } from '../../../src/controllers/trust/certs.ts';
import { applied, plan, summarise, type Chain, type MemberView, type OwnRoot, type PlanInput } from '../../../src/controllers/trust/plan.ts';

const fp = (label: string): string => label.padEnd(64, '0').replace(/[^0-9a-f]/g, 'e');
function root(label: string): Root {
  return { pem: `PEM ${label}`, sha256: fp(label), subject: `CN=CA, O=${label}`, isCA: true, notBefore: new Date(0), notAfter: new Date(4e12) };
}
const own = (r: Root, serving = true): OwnRoot => ({ ...r, serving });
// This cluster's tag, and another cluster's that meshes some of the same vCenters.
const TAG = clusterTagOf('kube-system-uid-of-this-cluster');
const OTHER = clusterTagOf('kube-system-uid-of-another-cluster');
const ours = (r: Root): Chain => ({ id: chainIdOf(TAG, r.sha256), roots: [r] });
const theirs = (r: Root): Chain => ({ id: chainIdOf(OTHER, r.sha256), roots: [r] });
/** As releases before the cluster tag named a chain. */
const untagged = (r: Root): Chain => ({ id: `vcd-operator-${r.sha256.slice(0, 16)}`, roots: [r] });
const foreign = (id: string, r: Root): Chain => ({ id, roots: [r] });

const A = root('a1');
const B = root('b1');
const C = root('c1');
const B2 = root('b2'); // b's renewed VMCA root
const X = root('f1'); // an extra (enterprise) root
const ADMIN = root('d1'); // a root an admin added by hand

const member = (name: string, ownRoots: OwnRoot[], chains: Chain[]): MemberView => ({
  name,
  ok: true,
  ownRoots,
  chains: [...ownRoots.map((r) => foreign(`${name}-vmca-${r.sha256.slice(0, 4)}`, r)), ...chains],
});
const down = (name: string): MemberView => ({ name, ok: false, reason: 'Unreachable', message: `${name} is unreachable` });

interface Row {
  name: string;
  input: Omit<PlanInput, 'clusterTag'>;
  adds: string[];
  removes?: string[];
  pruneHeld?: RegExp;
}

const short = (r: Root): string => r.sha256.slice(0, 2);

const rows: Row[] = [
  {
    name: "mesh from empty: each member gets the others' roots, nothing else",
    input: { members: [member('a', [own(A)], []), member('b', [own(B)], []), member('c', [own(C)], [])], extraRoots: [], prune: false },
    adds: ['a+b1', 'a+c1', 'b+a1', 'b+c1', 'c+a1', 'c+b1'],
  },
  {
    name: 'complete mesh: nothing to do',
    input: { members: [member('a', [own(A)], [ours(B)]), member('b', [own(B)], [ours(A)])], extraRoots: [], prune: true },
    adds: [],
  },
  {
    name: 'a root already there under a foreign id is not added again',
    input: { members: [member('a', [own(A)], [foreign('3f2a9c', B)]), member('b', [own(B)], [])], extraRoots: [], prune: false },
    adds: ['b+a1'],
  },
  {
    name: 'extra roots go to every member, once each',
    input: { members: [member('a', [own(A)], [ours(B)]), member('b', [own(B)], [ours(A), ours(X)])], extraRoots: [X, X], prune: false },
    adds: ['a+f1'],
  },
  {
    name: 'an unreachable member: pairs among the others still get their adds; its root is unknown so nobody gets it',
    input: { members: [member('a', [own(A)], []), down('b'), member('c', [own(C)], [])], extraRoots: [], prune: true },
    adds: ['a+c1', 'c+a1'],
  },
  {
    name: 'prune removes only operator chains nobody wants, never foreign ones',
    input: {
      members: [member('a', [own(A)], [ours(B), ours(C), foreign('admin-added', ADMIN)]), member('b', [own(B)], [ours(A)])],
      extraRoots: [],
      prune: true,
    },
    adds: [],
    removes: ['a-c1'],
  },
  {
    name: 'without prune nothing is removed',
    input: { members: [member('a', [own(A)], [ours(B), ours(C)]), member('b', [own(B)], [ours(A)])], extraRoots: [], prune: false },
    adds: [],
  },
  {
    name: 'prune waits while anything is still to be added',
    input: { members: [member('a', [own(A)], [ours(C)]), member('b', [own(B)], [])], extraRoots: [], prune: true },
    adds: ['a+b1', 'b+a1'],
    pruneHeld: /every member holds every wanted root/,
  },
  {
    name: 'prune waits while a member cannot be read (its roots might be the ones that look unwanted)',
    input: { members: [member('a', [own(A)], [ours(B), ours(C)]), down('b')], extraRoots: [], prune: true },
    adds: [],
    pruneHeld: /until b can be read/,
  },
  {
    name: 'rotation, phase 1: a renewed root beside the served one reaches every peer; the old one stays',
    input: { members: [member('a', [own(A)], [ours(B)]), member('b', [own(B), own(B2, false)], [ours(A)])], extraRoots: [], prune: true },
    adds: ['a+b2'],
  },
  {
    name: 'rotation, phase 2: the old root is still served, so it stays even with prune',
    input: { members: [member('a', [own(A)], [ours(B), ours(B2)]), member('b', [own(B), own(B2, false)], [ours(A)])], extraRoots: [], prune: true },
    adds: [],
  },
  {
    name: 'rotation, phase 3: b serves the new root and retired the old one; the old one is pruned from peers',
    input: { members: [member('a', [own(A)], [ours(B), ours(B2)]), member('b', [own(B2)], [ours(A)])], extraRoots: [], prune: true },
    adds: [],
    removes: ['a-b1'],
  },
  {
    name: 'a root another VCenterTrust still wants on that vCenter is not pruned',
    input: {
      members: [member('a', [own(A)], [ours(B), ours(C)]), member('b', [own(B)], [ours(A)])],
      extraRoots: [],
      prune: true,
      protectedRoots: new Map([['a', new Set([C.sha256])]]),
    },
    adds: [],
  },
  {
    name: 'our id taken by a chain holding something else: left alone, not overwritten',
    input: {
      members: [member('a', [own(A)], [{ id: chainIdOf(TAG, B.sha256), roots: [ADMIN] }]), member('b', [own(B)], [ours(A)])],
      extraRoots: [],
      prune: false,
    },
    adds: [],
  },
  {
    name: "another cluster's chains and untagged ones of an earlier release are never pruned, and still count as holding their roots",
    input: {
      members: [member('a', [own(A)], [theirs(B), theirs(C), untagged(X), ours(ADMIN)]), member('b', [own(B)], [untagged(A)])],
      extraRoots: [],
      prune: true,
    },
    adds: [],
    removes: ['a-d1'],
  },
];

describe('trust planner', function () {
  for (const row of rows) {
    it(row.name, function () {
      const p = plan({ clusterTag: TAG, ...row.input });
      const label = (sha: string) => [A, B, C, B2, X, ADMIN].find((r) => r.sha256 === sha) ?? assert.fail(`unknown root ${sha}`);
      assert.deepEqual(p.adds.map((a) => `${a.member}+${label(a.root.sha256).pem.slice(4)}`).sort(), [...row.adds].sort());
      for (const a of p.adds) assert.equal(a.chain, chainIdOf(TAG, a.root.sha256), 'adds use the deterministic chain id');
      assert.deepEqual(
        p.removes.map((r) => `${r.member}-${r.roots.map((x) => label(x.sha256).pem.slice(4)).join('')}`).sort(),
        [...(row.removes ?? [])].sort(),
      );
      if (row.pruneHeld) assert.match(p.pruneHeld ?? '', row.pruneHeld);
      else assert.equal(p.pruneHeld, undefined);
    });
  }

  it("chain ids are vcd-operator-, the cluster's tag and the first 16 hex digits of the SHA-256", function () {
    assert.match(TAG, /^[0-9a-f]{8}$/);
    assert.notEqual(TAG, OTHER);
    const id = chainIdOf(TAG, '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    assert.equal(id, `vcd-operator-${TAG}-0123456789abcdef`);
    assert.ok(isOwnChain(id, TAG) && !isOwnChain(id, OTHER) && isOperatorChain(id));
    assert.ok(
      isOperatorChain('vcd-operator-0123456789abcdef') && !isOwnChain('vcd-operator-0123456789abcdef', TAG),
      "untagged: an operator chain, nobody's own",
    );
    assert.ok(!isOperatorChain('vcd-operator-by-hand') && !isOperatorChain(`vcd-operator-${TAG}-0123`));
    assert.equal(short(A), 'a1');
  });

  it('replanning after the adds of a round were applied adds nothing (a crash between adds never duplicates)', function () {
    const members = [member('a', [own(A)], []), member('b', [own(B)], []), member('c', [own(C)], [])];
    const first = plan({ clusterTag: TAG, members, extraRoots: [X], prune: true });
    // Only the first two writes landed before the crash.
    const half = applied(members, { adds: first.adds.slice(0, 2), removes: [] });
    const second = plan({ clusterTag: TAG, members: half, extraRoots: [X], prune: true });
    assert.equal(second.adds.length, first.adds.length - 2);
    const all = applied(half, { adds: second.adds, removes: [] });
    assert.deepEqual(plan({ clusterTag: TAG, members: all, extraRoots: [X], prune: true }), { adds: [], removes: [] });
    for (const m of all) {
      if (!m.ok) continue;
      const fps = m.chains.flatMap((c) => c.roots.map((r) => r.sha256));
      assert.equal(new Set(fps).size, fps.length, `no root twice on ${m.name}`);
    }
  });

  describe('summary', function () {
    it('counts ordered pairs and names what is missing', function () {
      const s = summarise([member('a', [own(A)], [ours(B)]), member('b', [own(B)], []), member('c', [own(C)], [ours(A), ours(B)])], []);
      assert.equal(s.totalPairs, 6);
      assert.equal(s.trustedPairs, 3);
      assert.deepEqual(s.members.find((m) => m.name === 'a')?.missing, ['c']);
      assert.deepEqual(s.members.find((m) => m.name === 'b')?.missing, ['a', 'c']);
      assert.equal(s.complete, false);
    });

    it('a pair holds only when every own root of the peer is held (a renewed one too)', function () {
      const s = summarise([member('a', [own(A)], [ours(B)]), member('b', [own(B), own(B2, false)], [ours(A)])], []);
      assert.deepEqual(s.members.find((m) => m.name === 'a')?.missing, ['b']);
      assert.equal(s.trustedPairs, 1);
    });

    it('pairs with an unreadable member do not hold; the mesh is incomplete', function () {
      const s = summarise([member('a', [own(A)], [ours(C)]), down('b'), member('c', [own(C)], [ours(A)])], []);
      assert.equal(s.trustedPairs, 2);
      assert.equal(s.complete, false);
    });

    it('extra roots missing somewhere keep the mesh incomplete', function () {
      const s = summarise([member('a', [own(A)], [ours(B), ours(X)]), member('b', [own(B)], [ours(A)])], [X]);
      assert.equal(s.trustedPairs, 2);
      assert.deepEqual(s.members.find((m) => m.name === 'b')?.missingExtra, [X.sha256]);
      assert.equal(s.complete, false);
    });
  });
});

describe('own root of a vCenter', function () {
  it('is the trusted root that issued its TLS certificate, told apart from a same-subject root by key identifiers; a renewed root rides along', async function () {
    const { createCA } = await import('../../../src/sim/pki.ts');
    const { findOwnRoots } = await import('../../../src/controllers/trust/observe.ts');
    const { issuerRefOf, parseRoot } = await import('../../../src/controllers/trust/certs.ts');
    const old = await createCA('CA', { organization: 'vc-a' });
    const renewed = await createCA('CA', { organization: 'vc-a' });
    const peer = await createCA('CA', { organization: 'vc-b' });
    const leaf = await renewed.issueServer({ commonName: 'vc-a', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const [o, r, p] = [old, renewed, peer].map((ca) => parseRoot(ca.certPem)) as [Root, Root, Root];
    const chains: Chain[] = [foreign('old', o), foreign('new', r), ours(p)];
    const found = findOwnRoots(chains, issuerRefOf(leaf.certPem), new Date());
    assert.deepEqual(
      found?.map((x) => [x.sha256, x.serving]),
      [
        [r.sha256, true],
        [o.sha256, false],
      ],
    );
    // The peer's root (added by the operator) is never taken for this vCenter's own.
    assert.equal(findOwnRoots([ours(r)], issuerRefOf(leaf.certPem), new Date()), undefined);
    // Only the old root present: same subject, but its key did not sign the leaf.
    assert.equal(findOwnRoots([foreign('old', o)], issuerRefOf(leaf.certPem), new Date()), undefined);
  });
});

describe('reading a member', function () {
  it('falls back to download.zip when no trusted root chain issued its certificate, and reads chain contents once per id', async function () {
    const { createCA } = await import('../../../src/sim/pki.ts');
    const { observeMember } = await import('../../../src/controllers/trust/observe.ts');
    const { parseRoot } = await import('../../../src/controllers/trust/certs.ts');
    const vmca = await createCA('CA', { organization: 'vc-z' });
    const other = await createCA('CA', { organization: 'elsewhere' });
    const leaf = await vmca.issueServer({ commonName: 'vc-z', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    let gets = 0;
    let zips = 0;
    const client = {
      apiFamily: 'api',
      tls: () => Promise.resolve({ cert: leaf.certPem }),
      downloadRoots: () => {
        zips++;
        return Promise.resolve([{ pem: other.certPem }, { pem: vmca.certPem }]);
      },
      trustedRootChains: {
        list: () => Promise.resolve(['unrelated']),
        get: () => {
          gets++;
          return Promise.resolve([other.certPem]);
        },
      },
    };
    const cache = new Map<string, Root[]>();
    const seen = await observeMember('vc-z', client, cache, new Date());
    assert.deepEqual(
      seen.ownRoots.map((r) => [r.sha256, r.serving]),
      [[parseRoot(vmca.certPem).sha256, true]],
    );
    await observeMember('vc-z', client, cache, new Date());
    assert.equal(gets, 1, 'a chain id is read once, then served from the cache');
    assert.equal(zips, 2);
  });

  it('says which issuer it could not find', async function () {
    const { createCA } = await import('../../../src/sim/pki.ts');
    const { observeMember } = await import('../../../src/controllers/trust/observe.ts');
    const vmca = await createCA('CA', { organization: 'vc-y' });
    const leaf = await vmca.issueServer({ commonName: 'vc-y', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const client = {
      apiFamily: 'rest',
      tls: () => Promise.resolve({ cert: leaf.certPem }),
      downloadRoots: () => Promise.resolve([]),
      trustedRootChains: { list: () => Promise.resolve([]), get: () => Promise.resolve([]) },
    };
    await assert.rejects(observeMember('vc-y', client, new Map(), new Date()), (err: Error & { reason?: string }) => {
      assert.equal(err.reason, 'RootNotFound');
      assert.match(err.message, /vc-y's TLS certificate is issued by CN=CA, O=vc-y/);
      return true;
    });
  });
});
