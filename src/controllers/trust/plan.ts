// The trust mesh as pure functions: from what each member holds and what each member's own roots
// are, which chains to add and which to prune, and how much of the mesh holds. No I/O here.
//
// Rules (issue 12):
// - every member must hold every other member's own roots and every extra root; presence is by
//   fingerprint in any chain, whoever added it, so nothing is ever added twice;
// - the operator adds a root as chain `vcd-operator-<cluster tag>-<sha256 prefix>` and only ever
//   removes chains with its own cluster's tag;
// - pruning (when asked for) happens only from a complete mesh: every member read, nothing left to
//   add. So a renewed root reaches every peer before a retired one goes, and a member that cannot
//   be read never loses a peer's root because its own roots were unknown that round;
// - a member's own roots (the one its TLS certificate chains to, and a renewed one beside it) are
//   wanted on every peer, so the root a member serves a chain to is never pruned.
import { chainIdOf, isOwnChain, type Root } from './certs.ts';

export interface Chain {
  id: string;
  roots: Root[];
}

export interface OwnRoot extends Root {
  /** The TLS certificate the member serves now chains to this root. */
  serving: boolean;
}

export type MemberView = { name: string; ok: true; chains: Chain[]; ownRoots: OwnRoot[] } | { name: string; ok: false; reason: string; message: string };

export interface PlanInput {
  /** This cluster's tag (clusterTagOf): the chains it adds carry it, and only those are pruned. */
  clusterTag: string;
  members: MemberView[];
  extraRoots: Root[];
  prune: boolean;
  /** Per member, fingerprints another VCenterTrust sharing that vCenter still wants (never pruned). */
  protectedRoots?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface Add {
  member: string;
  chain: string;
  root: Root;
  /** The member whose own root this is; absent for an extra root. */
  owner?: string;
}

export interface Remove {
  member: string;
  chain: string;
  roots: Root[];
}

export interface Plan {
  adds: Add[];
  removes: Remove[];
  /** Why pruning waits this round, when prune is on and something would be pruned later. */
  pruneHeld?: string;
}

/** The roots member `name` must trust: its peers' own roots and the extra roots, each once. */
export function wantedOn(name: string, members: readonly MemberView[], extraRoots: readonly Root[]): Array<{ root: Root; owner?: string }> {
  const out: Array<{ root: Root; owner?: string }> = [];
  const seen = new Set<string>();
  for (const peer of members) {
    if (peer.name === name || !peer.ok) continue;
    for (const root of peer.ownRoots) {
      if (seen.has(root.sha256)) continue;
      seen.add(root.sha256);
      out.push({ root, owner: peer.name });
    }
  }
  for (const root of extraRoots) {
    if (seen.has(root.sha256)) continue;
    seen.add(root.sha256);
    out.push({ root });
  }
  return out;
}

export function fingerprintsOf(chains: readonly Chain[]): Set<string> {
  return new Set(chains.flatMap((c) => c.roots.map((r) => r.sha256)));
}

export function plan(input: PlanInput): Plan {
  const adds: Add[] = [];
  for (const m of input.members) {
    if (!m.ok) continue;
    const held = fingerprintsOf(m.chains);
    const ids = new Set(m.chains.map((c) => c.id));
    for (const { root, owner } of wantedOn(m.name, input.members, input.extraRoots)) {
      if (held.has(root.sha256)) continue;
      const chain = chainIdOf(input.clusterTag, root.sha256);
      // Our id is taken by a chain without this root: only a hand edit does that. Leave it alone
      // and say so rather than overwrite what someone put there.
      if (ids.has(chain)) continue;
      adds.push({ member: m.name, chain, root, ...(owner ? { owner } : {}) });
    }
  }
  const removes: Remove[] = [];
  if (!input.prune) return { adds, removes };

  const candidates: Remove[] = [];
  for (const m of input.members) {
    if (!m.ok) continue;
    const keep = new Set([
      ...wantedOn(m.name, input.members, input.extraRoots).map((w) => w.root.sha256),
      ...m.ownRoots.map((r) => r.sha256),
      ...(input.protectedRoots?.get(m.name) ?? []),
    ]);
    for (const c of m.chains) {
      if (!isOwnChain(c.id, input.clusterTag)) continue;
      if (c.roots.some((r) => keep.has(r.sha256))) continue;
      candidates.push({ member: m.name, chain: c.id, roots: c.roots });
    }
  }
  if (candidates.length === 0) return { adds, removes };
  const unread = input.members.filter((m) => !m.ok).map((m) => m.name);
  if (unread.length) return { adds, removes, pruneHeld: `pruning waits until ${unread.join(', ')} can be read` };
  if (adds.length) return { adds, removes, pruneHeld: 'pruning waits until every member holds every wanted root' };
  return { adds, removes: candidates };
}

export interface MemberSummary {
  name: string;
  /** Peers whose own roots this member holds, all of them. */
  trusts: string[];
  /** Peers whose own roots (or some of them) this member lacks, or that could not be read. */
  missing: string[];
  /** Extra roots this member lacks (fingerprints). */
  missingExtra: string[];
}

export interface MeshSummary {
  members: MemberSummary[];
  trustedPairs: number;
  totalPairs: number;
  /** Every member read, every pair holds, every extra root everywhere. */
  complete: boolean;
}

/** How much of the mesh holds in `members` (typically the observed state with the writes that succeeded applied). */
export function summarise(members: readonly MemberView[], extraRoots: readonly Root[]): MeshSummary {
  const out: MemberSummary[] = [];
  let trustedPairs = 0;
  for (const m of members) {
    const held = m.ok ? fingerprintsOf(m.chains) : new Set<string>();
    const trusts: string[] = [];
    const missing: string[] = [];
    for (const peer of members) {
      if (peer.name === m.name) continue;
      const holds = m.ok && peer.ok && peer.ownRoots.length > 0 && peer.ownRoots.every((r) => held.has(r.sha256));
      if (holds) trusts.push(peer.name);
      else missing.push(peer.name);
    }
    trustedPairs += trusts.length;
    const missingExtra = m.ok ? extraRoots.filter((r) => !held.has(r.sha256)).map((r) => r.sha256) : extraRoots.map((r) => r.sha256);
    out.push({ name: m.name, trusts, missing, missingExtra });
  }
  const n = members.length;
  const totalPairs = n * (n - 1);
  const complete = members.every((m) => m.ok) && trustedPairs === totalPairs && out.every((s) => s.missingExtra.length === 0);
  return { members: out, trustedPairs, totalPairs, complete };
}

/** `members` with the writes that succeeded applied, for the summary after a round. */
export function applied(members: readonly MemberView[], done: { adds: readonly Add[]; removes: readonly Remove[] }): MemberView[] {
  return members.map((m) => {
    if (!m.ok) return m;
    const removed = new Set(done.removes.filter((r) => r.member === m.name).map((r) => r.chain));
    const added = done.adds.filter((a) => a.member === m.name).map((a) => ({ id: a.chain, roots: [a.root] }));
    return { ...m, chains: [...m.chains.filter((c) => !removed.has(c.id)), ...added] };
  });
}
