// VCenterTrust on the managed engine: the "external object" is the mesh itself, which always
// exists (there is nothing to create), so every round is connect → sync. connect logs in to every
// member and never fails as a whole: a member it cannot reach is carried as a problem, so the pairs
// among the others still converge. sync observes the members, plans (plan.ts), writes, and reports
// one outcome. Deletion policy is Orphan: deleting a VCenterTrust leaves the trust it built in
// place, since taking roots away could break moves that rely on them.
import { objectKey, type ControllerDefinition, type InformerEvents, type KubeObject, type Manager, type ReconcileContext } from '../../runtime/index.ts';
import { validateVCenterTrust, VCenterTrustResource, type VCenterTrust, type VCenterTrustStatus } from '../../api/index.ts';
import { managedController, mapLimit, type EngineOptions, type ManagedExternal, type Report } from '../../reconcile/index.ts';
import { SecretResource } from '../../reconcile/connections/index.ts';
import { checkRoots, clusterTagOf, shortFingerprint, type Root } from './certs.ts';
import type { MemberConnection, VCenterClientCache } from './clients.ts';
import { execute } from './execute.ts';
import { observeMember } from './observe.ts';
import { applied, plan, summarise, type Add, type MemberView, type Remove } from './plan.ts';
import type { Problem } from '../../reconcile/index.ts';
import { problemOf } from './problems.ts';
import { roundOutcome } from './status.ts';

export const TRUST_FINALIZER = 'vcd-operator.io/vcentertrust';
const BY_SECRET = 'bySecret';
/** The mesh has no cloud id of its own; this stands for it where the engine asks for one. */
const MESH = 'mesh';

export interface TrustControllerDeps {
  manager: Manager;
  /** The cluster identity (kube-system's UID): chain ids carry its tag, and only chains with it are pruned. */
  clusterId: string;
  clients: VCenterClientCache;
  operatorNamespace: string;
  /** Events of every Secret informer (the SecretStore); default the manager's Secret informer. */
  secrets?: InformerEvents<KubeObject>;
  /** The engine's options; driftCheckMs is how often a complete mesh is read again. */
  engine: EngineOptions;
  /** Members read or written at once. Default 16. */
  memberConcurrency?: number;
}

type Status = NonNullable<VCenterTrustStatus>;
/** Per member: a logged-in client, or why there is none. */
type MeshConnection = Map<string, MemberConnection | Problem>;

export function trustController(deps: TrustControllerDeps): ControllerDefinition<VCenterTrust> {
  const now = (): Date => new Date(deps.engine.clock.now());
  const retryMs = deps.engine.retryMs;
  const clusterTag = clusterTagOf(deps.clusterId);

  /** Fingerprints other VCenterTrusts want on each of this one's members (matched by URL): never pruned here. */
  function protectedRoots(obj: VCenterTrust): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const other of deps.manager.informer<VCenterTrust>(VCenterTrustResource).list()) {
      if (other.metadata?.uid === obj.metadata?.uid) continue;
      const urls = new Set(other.spec.members.map((m) => m.url));
      const wanted = new Set<string>(checkRoots(other.spec.extraRoots ?? '', now()).roots.map((r) => r.sha256));
      for (const m of other.status?.members ?? []) for (const r of m.ownRoots ?? []) wanted.add(r.sha256.replaceAll(':', '').toLowerCase());
      for (const m of obj.spec.members) if (urls.has(m.url)) out.set(m.name, new Set([...(out.get(m.name) ?? []), ...wanted]));
    }
    return out;
  }

  async function observeAll(obj: VCenterTrust, conns: MeshConnection): Promise<MemberView[]> {
    return mapLimit(obj.spec.members, deps.memberConcurrency ?? 16, async (m): Promise<MemberView> => {
      const conn = conns.get(m.name);
      try {
        if (!conn || conn instanceof Error) throw conn ?? new Error(`${m.name} was not connected`);
        const seen = await observeMember(m.name, conn.client, conn.chains, now());
        return { name: m.name, ok: true, chains: seen.chains, ownRoots: seen.ownRoots };
      } catch (err) {
        const p = problemOf(m.name, err);
        return { name: m.name, ok: false, reason: p.reason, message: p.message };
      }
    });
  }

  function addEvent(a: Add, wasTrusted: boolean): { type: 'Normal' | 'Warning'; reason: string; message: string } {
    const what = a.owner ? `${a.owner}'s root ${a.root.subject}` : `extra root ${a.root.subject}`;
    const fp = shortFingerprint(a.root.sha256);
    if (wasTrusted)
      return {
        type: 'Warning',
        reason: 'RootRestored',
        message: `${a.member} no longer held ${what} (SHA-256 ${fp}...), which it trusted before; added it again as chain ${a.chain}.`,
      };
    return { type: 'Normal', reason: 'RootAdded', message: `Added ${what} (SHA-256 ${fp}...) to ${a.member} as chain ${a.chain}.` };
  }

  function removeEvent(r: Remove): string {
    const subjects = r.roots.map((x) => `${x.subject} (SHA-256 ${shortFingerprint(x.sha256)}...)`).join(', ');
    return `Removed chain ${r.chain} (${subjects || 'no certificate'}) from ${r.member}: no member or extra root needs it any more (prune: true).`;
  }

  /** One round over the mesh: observe, plan, write, report. */
  async function sync(obj: VCenterTrust, conns: MeshConnection, ctx: ReconcileContext<VCenterTrust>): Promise<Report<Status>> {
    const extraRoots: Root[] = checkRoots(obj.spec.extraRoots ?? '', now()).roots;
    const views = await observeAll(obj, conns);
    const p = plan({ clusterTag, members: views, extraRoots, prune: obj.spec.prune === true, protectedRoots: protectedRoots(obj) });
    const before = new Map((obj.status?.members ?? []).map((m) => [m.name, new Set(m.trusts ?? [])]));
    // Events go out beside the writes, not between them: a vCenter's next add does not wait on the apiserver.
    const done = await execute(p, {
      clientOf: (name) => {
        const c = conns.get(name);
        return c && !(c instanceof Error) ? c : undefined;
      },
      signal: ctx.signal,
      onWrite: (w) => {
        if (w.kind === 'add') ctx.events.record(obj, addEvent(w.add, w.add.owner !== undefined && (before.get(w.add.member)?.has(w.add.owner) ?? false)));
        else ctx.events.record(obj, { type: 'Normal', reason: 'RootRemoved', message: removeEvent(w.remove) });
      },
    });
    // Per-member failures get their own Events; the engine records the overall one.
    for (const v of views) if (!v.ok) ctx.events.record(obj, { type: 'Warning', reason: v.reason, message: v.message });
    for (const [member, f] of done.failures)
      ctx.events.record(obj, { type: 'Warning', reason: f.reason, message: `Writing trusted roots on ${member} failed: ${f.message}` });

    // Log out of vCenters no VCenterTrust lists any more.
    const listed = new Set(
      deps.manager
        .informer<VCenterTrust>(VCenterTrustResource)
        .list()
        .flatMap((t) => t.spec.members.map((m) => m.url)),
    );
    for (const url of deps.clients.urls()) if (!listed.has(url)) deps.clients.forget(url);

    const families = new Map<string, string>();
    for (const [name, c] of conns) if (!(c instanceof Error)) families.set(name, c.client.apiFamily);
    const after = applied(views, done);
    const summary = summarise(after, extraRoots);
    const o = roundOutcome({
      views: after,
      summary,
      failures: done.failures,
      apiFamilies: families,
      extraRoots: extraRoots.length,
      ...(p.pruneHeld ? { pruneHeld: p.pruneHeld } : {}),
    });
    const wrote = done.adds.length + done.removes.length > 0;
    // After writes, look again at once: that read confirms them and prunes what waited for a complete mesh.
    // A complete mesh is read again by the controller's resync alone (0: no extra timer of our own).
    const requeueAfterMs = wrote && done.failures.size === 0 ? 1 : summary.complete && !done.failures.size ? 0 : retryMs;
    return { outcome: { ready: o.ready, synced: o.synced }, fields: o.fields, requeueAfterMs };
  }

  return managedController<VCenterTrust, MeshConnection, Status>(
    {
      name: 'vcentertrust',
      resource: VCenterTrustResource,
      finalizer: TRUST_FINALIZER,
      maxConcurrentReconciles: 2,
      indexers: { [BY_SECRET]: (o) => o.spec.members.map((m) => m.credentialsSecretRef.name) },
      watches: [
        {
          resource: SecretResource,
          ...(deps.secrets ? { events: deps.secrets } : {}),
          keysFor: (s) => {
            const meta = (s as KubeObject).metadata ?? {};
            if (meta.namespace !== deps.operatorNamespace) return [];
            return deps.manager
              .informer<VCenterTrust>(VCenterTrustResource)
              .byIndex(BY_SECRET, meta.name ?? '')
              .map(objectKey);
          },
        },
      ],
      validate(obj) {
        const invalid = validateVCenterTrust.problem(obj);
        if (invalid !== undefined) return invalid;
        // Every extra root is checked before any write, so a bad one never leaves the mesh half-changed.
        if (obj.spec.extraRoots === undefined) return undefined;
        const { problems } = checkRoots(obj.spec.extraRoots, now());
        return problems.length ? `spec.extraRoots: ${problems.map((p) => `certificate #${p.index + 1} ${p.message}`).join('; ')}` : undefined;
      },
      async connect(obj) {
        const conns: MeshConnection = new Map();
        await mapLimit(obj.spec.members, deps.memberConcurrency ?? 16, async (m) => {
          try {
            conns.set(m.name, await deps.clients.memberClient(m));
          } catch (err) {
            conns.set(m.name, problemOf(m.name, err));
          }
        });
        return conns;
      },
      external: (obj, conns, ctx): ManagedExternal<Status> => ({
        observe: () => Promise.resolve({ id: MESH }),
        create: () => Promise.resolve(MESH),
        sync: () => sync(obj, conns, ctx),
        // Orphan is the only policy: the engine never asks.
        delete: () => Promise.resolve(),
      }),
      knownId: () => MESH,
      deletionPolicy: () => 'Orphan',
      describe: (obj) => `the trust mesh of VCenterTrust ${obj.metadata?.name ?? ''}`,
    },
    deps.engine,
  );
}
