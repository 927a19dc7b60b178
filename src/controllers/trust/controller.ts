// VCenterTrust: keeps a set of vCenters trusting each other's roots. One key per VCenterTrust;
// each round observes every member (in parallel), plans (plan.ts), executes the writes, and ends
// with one status patch. A member that cannot be read or written is reported by name while the
// pairs among the others still converge. No finalizer: deleting a VCenterTrust leaves the trust
// it built in place, since taking roots away could break moves that rely on them.
import { objectKey, type ControllerDefinition, type KubeObject, type Manager, type ReconcileContext } from '../../runtime/index.ts';
import { validateVCenterTrust, VCenterTrustResource, type VCenterTrust, type VCenterTrustStatus } from '../../api/index.ts';
import { SecretResource } from '../../reconcile/connections/index.ts';
import { checkRoots, shortFingerprint, type Root } from './certs.ts';
import type { VCenterClientCache, MemberConnection } from './clients.ts';
import { execute } from './execute.ts';
import { observeMember } from './observe.ts';
import { applied, plan, summarise, type Add, type MemberView, type Remove } from './plan.ts';
import { problemOf, TrustReasons } from './problems.ts';
import { roundOutcome, type ConditionOutcome } from './status.ts';

const BY_SECRET = 'bySecret';

export interface TrustControllerDeps {
  manager: Manager;
  clients: VCenterClientCache;
  operatorNamespace: string;
  /** How often a complete mesh is checked again for drift. */
  resyncMs: number;
  /** How soon to look again while a member is failing. Default 30 s. */
  retryMs?: number;
  /** Members read or written at once. Default 16. */
  memberConcurrency?: number;
  now?: () => Date;
}

type Status = NonNullable<VCenterTrustStatus>;

export function trustController(deps: TrustControllerDeps): ControllerDefinition<VCenterTrust> {
  const retryMs = deps.retryMs ?? 30_000;
  const now = deps.now ?? (() => new Date());

  async function writeStatus(ctx: ReconcileContext<VCenterTrust>, obj: VCenterTrust, ready: ConditionOutcome, synced: ConditionOutcome, fields?: (s: Status) => void): Promise<void> {
    const generation = obj.metadata?.generation ?? 0;
    await ctx.status.patchStatus(obj, (s: Status) => {
      fields?.(s);
      s.conditions ??= [];
      ctx.status.setCondition(s.conditions, { type: 'Ready', ...ready, observedGeneration: generation });
      ctx.status.setCondition(s.conditions, { type: 'Synced', ...synced, observedGeneration: generation });
    });
  }

  async function invalid(ctx: ReconcileContext<VCenterTrust>, obj: VCenterTrust, message: string): Promise<void> {
    const c = { status: 'False' as const, reason: TrustReasons.InvalidSpec, message: `${message}. Fix the spec; nothing is written to any vCenter until then.` };
    await writeStatus(ctx, obj, c, c);
    await ctx.events.record(obj, { type: 'Warning', reason: TrustReasons.InvalidSpec, message: c.message });
  }

  /** Fingerprints other VCenterTrusts want on each of this one's members (matched by URL): never pruned here. */
  function protectedRoots(ctx: ReconcileContext<VCenterTrust>, obj: VCenterTrust): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const other of ctx.informer.list()) {
      if (other.metadata?.uid === obj.metadata?.uid) continue;
      const urls = new Set(other.spec.members.map((m) => m.url));
      const wanted = new Set<string>(checkRoots(other.spec.extraRoots ?? '', now()).roots.map((r) => r.sha256));
      for (const m of other.status?.members ?? []) for (const r of m.ownRoots ?? []) wanted.add(r.sha256.replaceAll(':', '').toLowerCase());
      for (const m of obj.spec.members) {
        if (!urls.has(m.url)) continue;
        const set = out.get(m.name) ?? new Set<string>();
        for (const f of wanted) set.add(f);
        out.set(m.name, set);
      }
    }
    return out;
  }

  /** Connects to and reads every member, at most `memberConcurrency` at once. */
  async function observeAll(obj: VCenterTrust): Promise<{ views: MemberView[]; conns: Map<string, MemberConnection>; families: Map<string, string> }> {
    const conns = new Map<string, MemberConnection>();
    const families = new Map<string, string>();
    const views = await mapLimit(obj.spec.members, deps.memberConcurrency ?? 16, async (m): Promise<MemberView> => {
      try {
        const conn = await deps.clients.memberClient(m);
        conns.set(m.name, conn);
        families.set(m.name, conn.client.apiFamily);
        const seen = await observeMember(m.name, conn.client, conn.chains, now());
        return { name: m.name, ok: true, chains: seen.chains, ownRoots: seen.ownRoots };
      } catch (err) {
        const p = problemOf(m.name, err);
        return { name: m.name, ok: false, reason: p.reason, message: p.message };
      }
    });
    return { views, conns, families };
  }

  function describeAdd(a: Add, wasTrusted: boolean): { reason: string; message: string } {
    const what = a.owner ? `${a.owner}'s root ${a.root.subject}` : `extra root ${a.root.subject}`;
    const fp = shortFingerprint(a.root.sha256);
    if (wasTrusted) return { reason: 'RootRestored', message: `${a.member} no longer held ${what} (SHA-256 ${fp}...), which it trusted before; added it again as chain ${a.chain}.` };
    return { reason: 'RootAdded', message: `Added ${what} (SHA-256 ${fp}...) to ${a.member} as chain ${a.chain}.` };
  }

  function describeRemove(r: Remove): string {
    const subjects = r.roots.map((x) => `${x.subject} (SHA-256 ${shortFingerprint(x.sha256)}...)`).join(', ');
    return `Removed chain ${r.chain} (${subjects || 'no certificate'}) from ${r.member}: no member or extra root needs it any more (prune: true).`;
  }

  return {
    name: 'vcentertrust',
    for: VCenterTrustResource,
    maxConcurrentReconciles: 2,
    resyncPeriodMs: deps.resyncMs,
    indexers: { [BY_SECRET]: (o) => o.spec.members.map((m) => m.credentialsSecretRef.name) },
    watches: [
      {
        resource: SecretResource,
        keysFor: (s) => {
          const meta = (s as KubeObject).metadata ?? {};
          if (meta.namespace !== deps.operatorNamespace) return [];
          return trusts().byIndex(BY_SECRET, meta.name ?? '').map(objectKey);
        },
      },
    ],
    async reconcile(key, ctx) {
      const obj = ctx.informer.get(key);
      if (!obj || obj.metadata?.deletionTimestamp) return;
      const checked = validateVCenterTrust.validate(obj);
      if (!checked.valid) return invalid(ctx, obj, checked.message);
      // Every extra root is checked before any write, so a bad one never leaves the mesh half-changed.
      const extra = checkRoots(obj.spec.extraRoots ?? '', now());
      if (obj.spec.extraRoots !== undefined && extra.problems.length) {
        return invalid(ctx, obj, `spec.extraRoots: ${extra.problems.map((p) => `certificate #${p.index + 1} ${p.message}`).join('; ')}`);
      }
      const extraRoots: Root[] = obj.spec.extraRoots !== undefined ? extra.roots : [];

      const { views, conns, families } = await observeAll(obj);
      const p = plan({ members: views, extraRoots, prune: obj.spec.prune === true, protectedRoots: protectedRoots(ctx, obj) });
      const before = new Map((obj.status?.members ?? []).map((m) => [m.name, new Set(m.trusts ?? [])]));
      const done = await execute(p, {
        clientOf: (name) => conns.get(name),
        signal: ctx.signal,
        onWrite: async (w) => {
          if (w.kind === 'add') {
            const e = describeAdd(w.add, w.add.owner !== undefined && (before.get(w.add.member)?.has(w.add.owner) ?? false));
            await ctx.events.record(obj, { type: e.reason === 'RootRestored' ? 'Warning' : 'Normal', ...e });
          } else {
            await ctx.events.record(obj, { type: 'Normal', reason: 'RootRemoved', message: describeRemove(w.remove) });
          }
        },
      });
      for (const [member, problem] of done.failures) {
        await ctx.events.record(obj, { type: 'Warning', reason: problem.reason, message: `Writing trusted roots on ${member} failed: ${problem.message}` });
      }
      for (const v of views) {
        if (!v.ok) await ctx.events.record(obj, { type: 'Warning', reason: v.reason, message: v.message });
      }
      const after = applied(views, done);
      const summary = summarise(after, extraRoots);
      const o = roundOutcome({ views: after, summary, failures: done.failures, apiFamilies: families, extraRoots: extraRoots.length, ...(p.pruneHeld ? { pruneHeld: p.pruneHeld } : {}) });
      await writeStatus(ctx, obj, o.ready, o.synced, o.fields);

      const wrote = done.adds.length + done.removes.length > 0;
      // After writes, look again at once: that read confirms them and prunes what waited for a complete mesh.
      if (wrote && done.failures.size === 0) return { requeueAfterMs: 1 };
      if (!summary.complete || done.failures.size || views.some((v) => !v.ok)) return { requeueAfterMs: retryMs };
      return { requeueAfterMs: deps.resyncMs };
    },
  };

  function trusts() {
    return deps.manager.informer<VCenterTrust>(VCenterTrustResource);
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
