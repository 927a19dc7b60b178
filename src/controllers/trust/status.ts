// What a round of the trust mesh concluded, as status fields and the Ready / Synced conditions:
// per member its own roots, which peers it trusts and which are missing; the pair count; reasons
// that name the vCenter or the pair at fault.
import type { VCenterTrustMemberStatus, VCenterTrustStatus } from '../../api/index.ts';
import { displayFingerprint } from './certs.ts';
import type { MemberView, MeshSummary } from './plan.ts';
import type { Problem } from '../../reconcile/index.ts';
import { TrustReasons } from './problems.ts';

export interface ConditionOutcome {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface RoundOutcome {
  fields: (s: NonNullable<VCenterTrustStatus>) => void;
  ready: ConditionOutcome;
  synced: ConditionOutcome;
}

export interface RoundFacts {
  views: readonly MemberView[];
  summary: MeshSummary;
  /** Members whose writes failed this round. */
  failures: ReadonlyMap<string, Problem>;
  apiFamilies: ReadonlyMap<string, string>;
  extraRoots: number;
  pruneHeld?: string;
}

export function pairsText(summary: Pick<MeshSummary, 'trustedPairs' | 'totalPairs'>): string {
  return `${summary.trustedPairs}/${summary.totalPairs}`;
}

export function roundOutcome(f: RoundFacts): RoundOutcome {
  const problems = new Map<string, { reason: string; message: string }>();
  for (const v of f.views) if (!v.ok) problems.set(v.name, { reason: v.reason, message: v.message });
  for (const [name, p] of f.failures) if (!problems.has(name)) problems.set(name, { reason: p.reason, message: p.message });

  const members: VCenterTrustMemberStatus[] = f.views.map((v) => {
    const s = f.summary.members.find((m) => m.name === v.name);
    const family = f.apiFamilies.get(v.name);
    const problem = problems.get(v.name);
    return {
      name: v.name,
      ...(family ? { apiFamily: family } : {}),
      ...(v.ok
        ? {
            ownRoots: v.ownRoots.map((r) => ({
              sha256: displayFingerprint(r.sha256),
              subject: r.subject,
              notAfter: r.notAfter.toISOString(),
              serving: r.serving,
            })),
          }
        : {}),
      trusts: s?.trusts ?? [],
      missing: s?.missing ?? [],
      ...(problem ? { problem: `${problem.reason}: ${problem.message}` } : {}),
    };
  });
  const fields = (st: NonNullable<VCenterTrustStatus>): void => {
    st.members = members;
    st.trustedPairs = f.summary.trustedPairs;
    st.totalPairs = f.summary.totalPairs;
    st.pairs = pairsText(f.summary);
  };
  const pairs = `${pairsText(f.summary)} pairs hold`;

  if (problems.size) {
    const [first] = problems.values();
    const names = [...problems.keys()];
    const others = f.summary.members.filter((m) => !problems.has(m.name));
    const without = others.reduce((n, m) => n + m.trusts.filter((t) => !problems.has(t)).length, 0);
    const withoutTotal = others.length * (others.length - 1);
    const detail = [...problems].map(([, p]) => p.message).join(' ');
    const message = `${detail} ${pairs}; ${without}/${withoutTotal} of the pairs not involving ${names.join(', ')} hold.`;
    const c = { status: 'False' as const, reason: first?.reason ?? TrustReasons.ReconcileError, message };
    return { fields, ready: c, synced: c };
  }
  if (!f.summary.complete) {
    const gaps = f.summary.members.flatMap((m) => [
      ...m.missing.map((p) => `${m.name} does not trust ${p}`),
      ...(m.missingExtra.length ? [`${m.name} lacks ${m.missingExtra.length} extra root(s)`] : []),
    ]);
    const message = `${gaps.slice(0, 5).join('; ')}${gaps.length > 5 ? `; and ${gaps.length - 5} more` : ''}. ${pairs}. A chain with the operator's id for that root holds something else; remove it by hand.`;
    const c = { status: 'False' as const, reason: TrustReasons.PairsMissing, message };
    return { fields, ready: c, synced: c };
  }
  const extra = f.extraRoots ? ` and ${f.extraRoots} extra root${f.extraRoots === 1 ? '' : 's'}` : '';
  const ready = { status: 'True' as const, reason: TrustReasons.MeshComplete, message: `All ${f.views.length} vCenters trust each other (${pairs})${extra}.` };
  const synced = f.pruneHeld
    ? { status: 'False' as const, reason: TrustReasons.PairsMissing, message: `The mesh holds; ${f.pruneHeld}.` }
    : { status: 'True' as const, reason: TrustReasons.ReconcileSuccess, message: 'The last reconcile succeeded.' };
  return { fields, ready, synced };
}
