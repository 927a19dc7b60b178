// Tier-0 advertisement of IP Space prefixes, on the grouped engine keyed by Tier-0: every IPSpace
// whose spec.tier0Advertisement names the same NSX connection and Tier-0/VRF is one group, so the
// shared route map and redistribution rule are written by one reconcile at a time. Per IP Space:
// one prefix list (named by its UID, marked with the cluster); per Tier-0: one route map permitting
// our prefix lists and one redistribution rule pointing at it. Every write is a read-modify-write
// under `_revision` (a 412 re-reads and retries, bounded in the NSX client), and keeps what others
// (VCD, an admin) put in the same route map and locale service.
//
// The IPSpace's own controller owns Ready and Synced; this one writes the Tier0Advertised
// condition and status.tier0Advertisement, whose `key` says where the advertisement was written:
// an IP Space stays in that group until its advertisement is removed from there (field removed,
// changed, or the object deleted), then joins its new group.
import { IPSpaceResource, Reasons, type ConnectionRef, type IPSpace, type IPSpaceStatus } from '../../api/index.ts';
import type { NsxClient, PrefixList } from '../../clients/nsx/index.ts';
import type { ControllerDefinition } from '../../runtime/index.ts';
import { formatMarker, groupedController, jsonKeyCodec, markerFor, Problem, splitDescription } from '../../reconcile/index.ts';
import { nsxConnectionWatch } from '../../reconcile/connections/index.ts';
import { engineOptions, type ControllerDeps } from '../deps.ts';
import {
  ownsRouteMapEntry,
  prefixEntries,
  prefixListId,
  PREFIX_LIST_PREFIX,
  redistributionRule,
  routeMapEntries,
  routeMapId,
  tier0Path,
} from './advertisement-plan.ts';
import { RoutingReasons } from './problems.ts';
import { tier0ByName, tier0OfProviderGateway, type Tier0Target } from './tier0.ts';

export const ADVERTISEMENT_FINALIZER = 'vcd-operator.io/tier0-advertisement';
export const ADVERTISED_CONDITION = 'Advertised';
type Status = NonNullable<IPSpaceStatus>;

export interface AdvertisementKey {
  nsx: string;
  /** The Tier-0/VRF by NSX id or display name... */
  tier0?: string;
  /** ...or the VCD provider gateway it backs, looked up through the IPSpace's connection. */
  providerGateway?: { id?: string; name?: string; connection: ConnectionRef; namespace: string };
}

const isKey = (v: unknown): v is AdvertisementKey => typeof v === 'object' && v !== null && typeof (v as AdvertisementKey).nsx === 'string';
export const advertisementKeys = jsonKeyCodec<AdvertisementKey>('tier0adv', isKey);

/** The group the spec asks for, or undefined when it asks for no advertisement. */
export function specKey(obj: IPSpace): AdvertisementKey | undefined {
  const a = obj.spec.tier0Advertisement;
  if (!a) return undefined;
  if (a.tier0 !== undefined) return { nsx: a.nsxConnectionRef.name, tier0: a.tier0 };
  const pg = a.providerGateway ?? {};
  return {
    nsx: a.nsxConnectionRef.name,
    providerGateway: { ...(pg.id ? { id: pg.id } : { name: pg.name ?? '' }), connection: obj.spec.connectionRef, namespace: obj.metadata?.namespace ?? '' },
  };
}

function recordedKey(obj: IPSpace): string | undefined {
  return obj.status?.tier0Advertisement?.key;
}

/** The group: where the advertisement was written while it is there, else where the spec asks for it. */
function keyOf(obj: IPSpace): AdvertisementKey | undefined {
  const recorded = recordedKey(obj);
  return recorded !== undefined ? advertisementKeys.decode(recorded) : specKey(obj);
}

const BY_NSX = 'byNsxConnection';

export function tier0AdvertisementController(deps: ControllerDeps, opts: { retryMs?: number } = {}): ControllerDefinition<IPSpace> {
  const engine = engineOptions(deps, opts);
  const mapId = routeMapId(deps.clusterId);

  const target = async (key: AdvertisementKey, nsx: NsxClient): Promise<Tier0Target> => {
    if (key.tier0 !== undefined) return tier0ByName(nsx, key.tier0);
    const pg = key.providerGateway;
    if (!pg) throw new Problem(Reasons.InvalidSpec, 'tier0Advertisement names neither tier0 nor providerGateway.');
    const res = await deps.pool.resolve(pg.connection, pg.namespace);
    if (!res.ok) throw new Problem(res.reason, res.message);
    return tier0OfProviderGateway(nsx, res.client, pg);
  };

  /** Our cluster's prefix lists on the Tier-0: named by our prefix and marked with our cluster. */
  const ourPrefixLists = async (nsx: NsxClient, t0: string): Promise<PrefixList[]> =>
    (await nsx.list<PrefixList>(`${tier0Path(t0)}/prefix-lists`)).filter(
      (p) => (p.id ?? '').startsWith(PREFIX_LIST_PREFIX) && splitDescription(p.description).marker?.clusterId === deps.clusterId,
    );

  /** Brings the Tier-0 in line: `keep` are the IP Spaces to advertise, `drop` the UIDs whose prefix lists go. */
  const apply = async (nsx: NsxClient, t0: Tier0Target, keep: readonly IPSpace[], drop: ReadonlySet<string>): Promise<void> => {
    const base = `${tier0Path(t0.id)}/prefix-lists`;
    for (const obj of keep) {
      const id = prefixListId(obj.metadata?.uid ?? '');
      const description = formatMarker(markerFor(deps.clusterId, 'IPSpace', obj));
      const prefixes = prefixEntries(obj.spec);
      await nsx.update<PrefixList>(
        `${base}/${id}`,
        (cur) => ({
          ...(cur ?? { id, resource_type: 'PrefixList' }),
          display_name: `IP Space ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`,
          description,
          prefixes,
        }),
        'advertisement.prefixList',
      );
    }
    const ours = await ourPrefixLists(nsx, t0.id);
    const remaining = ours.map((p) => p.id ?? '').filter((id) => !drop.has(id.slice(PREFIX_LIST_PREFIX.length)));
    const entries = routeMapEntries(t0.id, remaining);
    const rule = redistributionRule(t0.id, mapId);
    const ownsRule = (r: { name?: string }) => r.name === mapId;
    if (entries.length) {
      // Prefix lists first, then the route map naming them, then the rule naming the route map.
      await nsx.reconcileRouteMap(t0.id, mapId, { desired: entries, owns: ownsRouteMapEntry });
      await nsx.reconcileRedistribution(t0.id, t0.localeServiceId, { desired: [rule], owns: ownsRule });
    } else {
      // Nothing left: the rule goes before the route map it names.
      await nsx.reconcileRedistribution(t0.id, t0.localeServiceId, { desired: [], owns: ownsRule });
      await nsx.reconcileRouteMap(t0.id, mapId, { desired: [], owns: ownsRouteMapEntry });
    }
    for (const p of ours)
      if (drop.has((p.id ?? '').slice(PREFIX_LIST_PREFIX.length))) await nsx.delete(`${base}/${p.id ?? ''}`, 'advertisement.prefixList.delete');
  };

  return groupedController<IPSpace, AdvertisementKey, Status>(
    {
      name: 'tier0-advertisement',
      resource: IPSpaceResource,
      finalizer: ADVERTISEMENT_FINALIZER,
      codec: advertisementKeys,
      conditions: { ready: ADVERTISED_CONDITION, field: 'tier0Advertisement' },
      keyOf,
      admit: [],
      indexers: { [BY_NSX]: (o) => [keyOf(o)?.nsx].filter((n): n is string => n !== undefined) },
      // An NSXConnection that becomes usable (or changes) wakes the Tier-0s that use it.
      watches: [
        nsxConnectionWatch((c) => {
          const spaces = deps.manager.byIndex<IPSpace>('tier0-advertisement', BY_NSX, c.metadata?.name ?? '');
          return [
            ...new Set(
              spaces
                .map(keyOf)
                .filter((k) => k !== undefined)
                .map((k) => advertisementKeys.encode(k)),
            ),
          ];
        }),
      ],
      holdsCloudState: (obj) => obj.status?.tier0Advertisement !== undefined,
      async reconcile(key, group) {
        const text = advertisementKeys.encode(key);
        const stays = (o: IPSpace) =>
          !o.metadata?.deletionTimestamp && specKey(o) !== undefined && advertisementKeys.encode(specKey(o) as AdvertisementKey) === text;
        const keep = group.members.filter(stays);
        const leaving = group.members.filter((o) => !stays(o));
        const res = await deps.nsxPool.resolve(key.nsx);
        if (!res.ok) {
          for (const o of group.members) group.problem(o.metadata?.uid ?? '', new Problem(res.reason, res.message));
          group.requeueAfter(engine.retryMs);
          return;
        }
        let t0: Tier0Target;
        try {
          t0 = await target(key, res.client);
        } catch (err) {
          if (!(err instanceof Problem)) throw err;
          for (const o of group.members) group.problem(o.metadata?.uid ?? '', err);
          group.requeueAfter(engine.retryMs);
          return;
        }
        // Record intent before writing to NSX, so a deletion or a move finds the advertisement.
        for (const o of keep) {
          const uid = o.metadata?.uid ?? '';
          await group.ensureFinalizer(uid, ADVERTISEMENT_FINALIZER);
          if (recordedKey(group.get(uid)) !== text) {
            group.set(await group.ctx.status.patchStatus(group.get(uid), (s: Status) => void (s.tier0Advertisement = { ...s.tier0Advertisement, key: text })));
          }
        }
        // UIDs that no IPSpace has any more are orphans of deletes this controller did not see.
        const live = new Set(group.ctx.informer.list().map((o) => o.metadata?.uid ?? ''));
        const drop = new Set(leaving.map((o) => o.metadata?.uid ?? ''));
        for (const p of await ourPrefixLists(res.client, t0.id)) {
          const uid = (p.id ?? '').slice(PREFIX_LIST_PREFIX.length);
          if (!live.has(uid)) drop.add(uid);
        }
        await apply(res.client, t0, keep, drop);
        const kind = t0.vrf ? 'VRF' : 'Tier-0';
        for (const o of keep) {
          const uid = o.metadata?.uid ?? '';
          const listPath = `${tier0Path(t0.id)}/prefix-lists/${prefixListId(uid)}`;
          group.ready(
            uid,
            RoutingReasons.Advertised,
            `Advertised from ${kind} ${t0.name} through prefix list ${prefixListId(uid)} and route map ${mapId}.`,
            (s) => {
              s.tier0Advertisement = { ...s.tier0Advertisement, key: text, tier0Path: tier0Path(t0.id), prefixListPath: listPath };
            },
          );
        }
        for (const o of leaving) {
          const uid = o.metadata?.uid ?? '';
          // The finalizer goes first: the recorded key in status is what still places a leaving
          // IP Space in this group, so clearing it first would strand the finalizer for good when
          // its removal then failed (a conflict with the IPSpace controller's own writes).
          await group.dropFinalizer(uid, ADVERTISEMENT_FINALIZER);
          if (!o.metadata?.deletionTimestamp) {
            group.event(uid, 'Normal', 'AdvertisementRemoved', `Removed this IP Space's prefix list from ${kind} ${t0.name}.`);
            group.set(
              await group.ctx.status.patchStatus(group.get(uid), (s: Status) => {
                delete s.tier0Advertisement;
                s.conditions = (s.conditions ?? []).filter((c) => c.type !== ADVERTISED_CONDITION);
              }),
            );
          }
        }
      },
    },
    engine,
  );
}
