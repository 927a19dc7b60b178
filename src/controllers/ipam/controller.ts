// FloatingIPClaim and IPPrefixClaim on the grouped engine (src/reconcile/grouped.ts). The key is
// the allocation group (connection, org, IP Space): one reconcile admits each claim (valid spec, a
// connection its namespace may use), reads the group's allocations from VCD once, plans
// (plan.ts, pure) and executes (executor.ts). The engine owns conditions, Synced on failure and
// the finalizer of claims that never held anything.
import { FloatingIPClaimResource, IPPrefixClaimResource, Reasons, validateFloatingIPClaim, validateIPPrefixClaim, type Validator } from '../../api/index.ts';
import { atLeast, FEATURES, VcdNotFoundError, type VcdClient } from '../../clients/vcd/index.ts';
import { groupedController, pendingSince, Problem, validSpec, type Group } from '../../reconcile/index.ts';
import type { ControllerDefinition, KubeObject, ReconcileContext } from '../../runtime/index.ts';
import { connectionKey, NamespaceResource, vcdConnectionWatches, type Connection } from '../../reconcile/connections/index.ts';
import { engineOptions, type ControllerDeps } from '../deps.ts';
import { connectionAllowed } from './admission.ts';
import { CLAIM_FINALIZER, ClaimExecutor, type ClaimStatus, type KindInfo, type Target } from './executor.ts';
import { connectionKeyOfClaim, connectionKeyOfGroup, groupKeyOf, groupKeys, type Claim, type GroupKey } from './group.ts';
import { lostAllocates, type LostAllocates } from './outcomes.ts';
import { plan, type AllocationView, type ClaimKind, type ClaimView } from './plan.ts';

export { CLAIM_FINALIZER } from './executor.ts';
export { CREATE_PENDING_ANNOTATION as PENDING_ANNOTATION } from '../../reconcile/index.ts';

const BY_CONNECTION = 'byConnection';
const BY_ALLOCATION = 'byAllocation';
const BY_IPSPACE_ID = 'byIpSpaceId';
/** How soon a claim stuck on a missing IP Space or org is tried again without any event. */
const RETRY_MS = 30_000;

const KINDS: Record<ClaimKind, KindInfo & { validator: Validator<Claim> }> = {
  FloatingIPClaim: {
    kind: 'FloatingIPClaim',
    resource: FloatingIPClaimResource,
    type: 'FLOATING_IP',
    validator: validateFloatingIPClaim,
    valueField: 'address',
    requested: (c) => ('address' in c.spec ? c.spec.address : undefined),
    prefixLength: () => undefined,
  },
  IPPrefixClaim: {
    kind: 'IPPrefixClaim',
    resource: IPPrefixClaimResource,
    type: 'IP_PREFIX',
    validator: validateIPPrefixClaim,
    valueField: 'prefix',
    requested: (c) => ('cidr' in c.spec ? c.spec.cidr : undefined),
    prefixLength: (c) => ('prefixLength' in c.spec && !('cidr' in c.spec && c.spec.cidr) ? c.spec.prefixLength : undefined),
  },
};

export function claimController(kind: ClaimKind, deps: ControllerDeps): ControllerDefinition<Claim> {
  const info = KINDS[kind];
  /** When each claim was first seen (creationTimestamp has only second precision). */
  const firstSeen = new Map<string, number>();
  const engine = engineOptions(deps, { retryMs: RETRY_MS });
  const informer = () => deps.manager.informer<Claim>(info.resource);
  const groupsOf = (claims: Claim[]): string[] => [...new Set(claims.map((c) => groupKeys.encode(groupKeyOf(c))))];
  const claimsOfConnection = (conn: unknown): string[] =>
    groupsOf(deps.manager.byIndex<Claim>(kind.toLowerCase(), BY_CONNECTION, connectionKey(conn as Connection)));
  /** The IP Space id each group resolved to (groups may name their space by name): for VCD events. */
  const spaceOfGroup = new Map<string, string>();
  const groupsOfSpace = (spaceId: string): string[] => {
    const out = groupsOf(deps.manager.byIndex<Claim>(kind.toLowerCase(), BY_IPSPACE_ID, spaceId));
    for (const [group, id] of spaceOfGroup) if (id === spaceId) out.push(group);
    return out;
  };

  const view = (c: Claim): ClaimView => {
    const pending = pendingSince(c);
    const requested = info.requested(c);
    const prefixLength = info.prefixLength(c);
    return {
      uid: c.metadata?.uid ?? '',
      namespace: c.metadata?.namespace ?? '',
      name: c.metadata?.name ?? '',
      deleting: !!c.metadata?.deletionTimestamp,
      reclaimPolicy: c.spec.reclaimPolicy ?? 'Delete',
      ...(requested ? { requestedValue: requested } : {}),
      ...(prefixLength !== undefined ? { prefixLength } : {}),
      ...(pending !== undefined ? { pendingSince: new Date(pending) } : {}),
      ...(c.status?.allocationId ? { statusAllocationId: c.status.allocationId } : {}),
    };
  };

  /** The client, org and IP Space a group works in; undefined when its members were told why not. */
  async function target(key: GroupKey, res: { client: VcdClient; connection: Connection }, report: (p: Problem) => void): Promise<Target | undefined> {
    const all = (p: Problem): undefined => void report(p);
    const connOrg = res.connection.spec.org;
    let client: VcdClient = res.client;
    let org = key.org?.name ?? connOrg;
    if (client.isProvider) {
      if (!key.org)
        return all(
          new Problem(
            Reasons.InvalidSpec,
            `spec.org is required: connection ${res.connection.metadata?.name ?? ''} is a provider (System) connection and allocates on behalf of an organization.`,
          ),
        );
      if (key.org.id) {
        // The tenant context needs the org's name as well as its id.
        const id = key.org.id;
        const found = await deps.directory.resolve(`claims/${connectionKeyOfGroup(key)}|org|${id}`, () => res.client.orgs.get(id));
        if (!found) return all(new Problem(Reasons.OrgNotFound, `No organization with id ${id} exists in VCD. Check spec.org.`));
        org = found.name;
        client = client.forOrg(found);
      } else {
        client = client.forOrg(org);
      }
    } else if (key.org && (key.org.name ?? '').toLowerCase() !== connOrg.toLowerCase()) {
      return all(new Problem(Reasons.InvalidSpec, `spec.org must be unset or ${connOrg}: a tenant connection allocates only for its own organization.`));
    }
    if (!atLeast(client.apiVersion, FEATURES.ipSpaces.version)) {
      return all(
        new Problem(
          Reasons.UnsupportedAPIVersion,
          `VCD API ${client.apiVersion} has no IP Spaces; they need API ${FEATURES.ipSpaces.version} (VCD 10.4.1) or later.`,
        ),
      );
    }
    const ref = key.ipSpace;
    const space = await deps.directory.resolve(`claims/${connectionKeyOfGroup(key)}|${org}|ipSpace|${ref.id ?? ''}|${ref.name ?? ''}`, async () => {
      if (ref.id) {
        try {
          const s = await client.ipSpaces.get(ref.id);
          return { id: s.id ?? ref.id, name: s.name ?? ref.id };
        } catch (err) {
          if (err instanceof VcdNotFoundError) return undefined;
          throw err;
        }
      }
      // The summary names the id, which is all a group needs: no read of the whole IP Space.
      const s = ref.name ? await client.ipSpaces.findSummaryByName(ref.name) : undefined;
      return s?.id ? { id: s.id, name: s.name ?? ref.name ?? '' } : undefined;
    });
    if (!space) {
      const what = ref.id ? `id ${ref.id}` : `name ${ref.name ?? ''}`;
      return all(new Problem(Reasons.IPSpaceNotFound, `No IP Space with ${what} is visible to org ${org}. Check spec.ipSpace and that the org can use it.`));
    }
    return { client, space, org };
  }

  async function reconcileGroup(key: GroupKey, group: Group<Claim, ClaimStatus>): Promise<void> {
    const first = group.members[0];
    if (!first) return;
    const res = await deps.pool.resolve(first.spec.connectionRef, first.metadata?.namespace ?? '', first.spec.org ? { org: first.spec.org } : {});
    if (!res.ok) throw new Problem(res.reason, res.message, { transient: true });
    const t = await target(key, res, (p) => {
      for (const c of group.members) group.problem(c.metadata?.uid ?? '', p);
      if (p.reason !== Reasons.InvalidSpec && p.reason !== Reasons.UnsupportedAPIVersion) group.requeueAfter(RETRY_MS);
    });
    if (!t) return;
    spaceOfGroup.set(groupKeys.encode(key), t.space.id);
    const now = deps.manager.clock.now();
    const considered: ClaimView[] = [];
    for (const c of group.members) {
      const uid = c.metadata?.uid ?? '';
      if (!firstSeen.has(uid)) firstSeen.set(uid, now);
      const deleting = !!c.metadata?.deletionTimestamp;
      if (!deleting && info.requested(c) && !atLeast(t.client.apiVersion, FEATURES.allocationValue.version)) {
        const need = FEATURES.allocationValue.version;
        group.problem(
          uid,
          new Problem(
            Reasons.UnsupportedAPIVersion,
            `Allocating a specific ${info.valueField} needs VCD API ${need} (VCD 10.4.2); the connection uses ${t.client.apiVersion}.`,
          ),
        );
        continue;
      }
      // Refused by VCD for this spec: not sent again before its delay passes (its status says why).
      if (!deleting && !c.status?.allocationId && group.refusedUntil(uid) !== undefined) continue;
      considered.push(view(c));
    }
    if (firstSeen.size > 2 * informer().keys().length + 100) {
      const live = new Set(
        informer()
          .list()
          .map((c) => c.metadata?.uid ?? ''),
      );
      for (const uid of firstSeen.keys()) if (!live.has(uid)) firstSeen.delete(uid);
    }
    const listAllocations = async (): Promise<AllocationView[]> => {
      try {
        const list = await t.client.ipSpaces.allocations.list(t.space.id, { type: info.type });
        return list.flatMap((a) =>
          a.id && a.value
            ? [
                {
                  id: a.id,
                  value: a.value,
                  usageState: a.usageState ?? 'UNUSED',
                  ...(a.description ? { description: a.description } : {}),
                  ...(a.allocationDate ? { allocationDate: new Date(a.allocationDate) } : {}),
                },
              ]
            : [],
        );
      } catch (err) {
        if (err instanceof VcdNotFoundError) deps.directory.forget(`claims/${connectionKeyOfGroup(key)}|`);
        throw err;
      }
    };
    const planWith = (allocations: AllocationView[], lost?: LostAllocates) =>
      plan({
        clusterId: deps.clusterId,
        kind,
        claims: considered,
        allocations,
        liveClaimUids: new Set(
          informer()
            .list()
            .map((c) => c.metadata?.uid ?? ''),
        ),
        namespaceInScope: deps.namespaceInScope,
        now: new Date(now),
        pendingWindowMs: deps.pendingWindowMs,
        // While an allocate still runs nothing is adopted (its results are not known yet): the claims wait.
        ...(lost?.known ? (lost.settled ? { outcomesKnown: true, adoptable: lost.made } : { adoptable: new Set<string>() }) : {}),
      });
    let actions = planWith(await listAllocations());
    if (actions.some((a) => a.kind === 'wait' || (a.kind === 'adopt' && !a.claim.statusAllocationId))) {
      // An allocate sent under a guard lost its answer: ask VCD's task records what became of it,
      // then list again (after the tasks, so nothing they made is missed) and plan on that.
      const lost = await lostAllocates(t.client, t.space.id, considered, now, deps.pendingWindowMs);
      group.ctx.log.debug(
        { known: lost.known, settled: lost.known && lost.settled, made: lost.known && lost.settled ? lost.made.size : 0 },
        'looked for lost allocates',
      );
      if (lost.known) actions = planWith(await listAllocations(), lost);
    }
    const admittedNamespaces = new Set(group.members.map((c) => c.metadata?.namespace ?? ''));
    await new ClaimExecutor({ group, deps, info, target: t, firstSeen, view, admittedNamespaces }).execute(actions);
  }

  /**
   * The group's last claim is gone. A claim whose finalizer was removed by hand left its marked
   * allocation behind; give back any such allocation of ours in this IP Space.
   */
  async function sweep(key: GroupKey, ctx: ReconcileContext<Claim>): Promise<void> {
    spaceOfGroup.delete(groupKeys.encode(key));
    const res = await deps.pool.resolve(key.connectionRef, key.namespace ?? deps.pool.operatorNamespace, key.org ? { org: key.org } : {});
    if (!res.ok) return; // without a connection there is nothing to sweep with
    const t = await target(key, res, () => undefined);
    if (!t) return;
    const allocations = await t.client.ipSpaces.allocations.list(t.space.id, { type: info.type });
    const actions = plan({
      clusterId: deps.clusterId,
      kind,
      claims: [],
      allocations: allocations.flatMap((a) =>
        a.id && a.value ? [{ id: a.id, value: a.value, usageState: a.usageState ?? 'UNUSED', ...(a.description ? { description: a.description } : {}) }] : [],
      ),
      liveClaimUids: new Set(
        informer()
          .list()
          .map((c) => c.metadata?.uid ?? ''),
      ),
      namespaceInScope: deps.namespaceInScope,
      now: new Date(deps.manager.clock.now()),
      pendingWindowMs: deps.pendingWindowMs,
    });
    for (const a of actions) {
      if (a.kind !== 'release') continue;
      await t.client.ipSpaces.allocations.delete(t.space.id, a.allocation.id);
      ctx.log.info({ allocation: a.allocation.id, value: a.allocation.value, reason: a.reason }, 'released allocation');
    }
  }

  return groupedController<Claim, GroupKey, ClaimStatus>(
    {
      name: kind.toLowerCase(),
      resource: info.resource,
      finalizer: CLAIM_FINALIZER,
      codec: groupKeys,
      keyOf: groupKeyOf,
      admit: [validSpec(info.validator, 'nothing is allocated until then'), connectionAllowed(deps, () => undefined)],
      holdsCloudState: (c) => !!c.status?.allocationId || pendingSince(c) !== undefined,
      reconcile: reconcileGroup,
      empty: sweep,
      indexers: {
        [BY_CONNECTION]: (c) => [connectionKeyOfClaim(c)],
        [BY_ALLOCATION]: (c) => (c.status?.allocationId ? [c.status.allocationId] : []),
        [BY_IPSPACE_ID]: (c) => (c.spec.ipSpace.id ? [c.spec.ipSpace.id] : []),
      },
      // An event on an IP Space or one of its allocations re-reads the groups working in it.
      sources: [
        deps.events.source(kind.toLowerCase(), {
          entityTypes: ['ipSpace', 'ipSpaceIpAllocation'],
          keys: (e) => [
            ...groupsOfSpace(e.event.entity),
            ...(e.event.subEntity ? groupsOf(deps.manager.byIndex<Claim>(kind.toLowerCase(), BY_ALLOCATION, e.event.subEntity)) : []),
          ],
          keysOfConnection: (conn) => groupsOf(deps.manager.byIndex<Claim>(kind.toLowerCase(), BY_CONNECTION, conn)),
        }),
      ],
      watches: [
        ...vcdConnectionWatches(claimsOfConnection),
        // A namespace's labels decide whether a ClusterVCDConnection serves it.
        { resource: NamespaceResource, keysFor: (ns) => groupsOf(informer().list((ns as KubeObject).metadata?.name ?? '')) },
      ],
      // One worker per allocation group in flight: groups wait on VCD tasks, not on CPU.
      maxConcurrentReconciles: deps.claimWorkers,
    },
    engine,
  );
}
