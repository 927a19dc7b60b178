// What one reconcile of an edge needs to know from VCD besides its rule list: the edge itself
// (by name or id), its service interfaces (for appliedTo) and the firewall groups and port
// profiles rules name. These change rarely, so they are kept a few minutes per edge and looked up
// again only when a rule names something not found (at most every MISS_RETRY_MS), so an edge at
// rest costs one read per resync: its rule list.
// TODO(reconcile): keep these in src/reconcile/directory.ts (manager clock) once it is on main.
import type { CloudRef } from '../../api/index.ts';
import { VcdNotFoundError, type VcdClient } from '../../clients/vcd/index.ts';

const TTL_MS = 5 * 60_000;
const MISS_RETRY_MS = 30_000;

export interface EdgeInfo {
  id: string;
  name: string;
}

interface Entry<T> {
  value: T;
  at: number;
}

/** name ↔ id of the things one edge's rules may name. */
export interface Names {
  byName: Map<string, string>;
  byId: Map<string, string>;
}

function names(items: Array<{ id?: string; name: string }>): Names {
  const byName = new Map<string, string>();
  const byId = new Map<string, string>();
  for (const i of items) {
    if (!i.id) continue;
    byId.set(i.id, i.name);
    // An ambiguous name resolves to nothing; the rule is told to use the id.
    byName.set(i.name, byName.has(i.name) ? '' : i.id);
  }
  return { byName, byId };
}

/** The per-connection caches of the firewall controller; `scope` keys them by connection and org. */
export class EdgeDirectory {
  readonly #now: () => number;
  readonly #edges = new Map<string, Entry<EdgeInfo | undefined>>();
  readonly #interfaces = new Map<string, Entry<Names>>();
  readonly #groups = new Map<string, Entry<Names>>();
  readonly #profiles = new Map<string, Entry<Names>>();

  constructor(now: () => number) {
    this.#now = now;
  }

  #fresh<T>(map: Map<string, Entry<T>>, key: string, ttl: number): T | undefined {
    const hit = map.get(key);
    return hit && this.#now() - hit.at < ttl ? hit.value : undefined;
  }

  async edge(client: VcdClient, scope: string, ref: CloudRef): Promise<EdgeInfo | undefined> {
    const key = `${scope}|${ref.id ?? ''}|${ref.name ?? ''}`;
    const hit = this.#edges.get(key);
    if (hit && this.#now() - hit.at < (hit.value ? TTL_MS : MISS_RETRY_MS)) return hit.value;
    let found: EdgeInfo | undefined;
    if (ref.id) {
      try {
        const e = await client.edgeGateways.get(ref.id);
        found = { id: e.id ?? ref.id, name: e.name };
      } catch (err) {
        if (!(err instanceof VcdNotFoundError)) throw err;
      }
    } else if (ref.name) {
      const e = await client.edgeGateways.findByName(ref.name);
      if (e?.id) found = { id: e.id, name: e.name };
    }
    this.#edges.set(key, { value: found, at: this.#now() });
    return found;
  }

  /** Forget an edge that VCD no longer knows (a 403/404 on its rule list). */
  forgetEdges(): void {
    this.#edges.clear();
  }

  /**
   * The edge's service interfaces: segment-backed uplinks and non-distributed org VDC networks.
   * `refresh` asks for a new look when a rule names one not found (rate-limited).
   */
  async interfaces(client: VcdClient, edgeId: string, refresh = false): Promise<Names> {
    const cached = this.#fresh(this.#interfaces, edgeId, refresh ? MISS_RETRY_MS : TTL_MS);
    if (cached) return cached;
    const edge = await client.edgeGateways.get(edgeId);
    const items: Array<{ id?: string; name: string }> = edge.edgeGatewayUplinks
      .filter((u) => u.backingType === 'IMPORTED_T_LOGICAL_SWITCH')
      .map((u) => ({ ...(u.uplinkId ? { id: u.uplinkId } : {}), name: u.uplinkName ?? '' }));
    const networks = await client.orgVdcNetworks.list({ filter: `connection.routerRef.id==${edgeId}` });
    for (const n of networks) if (n.connection?.connectionTypeValue === 'NON_DISTRIBUTED' && n.connection.routerRef?.id === edgeId) items.push(n);
    const value = names(items);
    this.#interfaces.set(edgeId, { value, at: this.#now() });
    return value;
  }

  async groups(client: VcdClient, edgeId: string, refresh = false): Promise<Names> {
    const cached = this.#fresh(this.#groups, edgeId, refresh ? MISS_RETRY_MS : TTL_MS);
    if (cached) return cached;
    const value = names(await client.firewallGroups.list({ edgeGatewayId: edgeId }));
    this.#groups.set(edgeId, { value, at: this.#now() });
    return value;
  }

  async profiles(client: VcdClient, scope: string, refresh = false): Promise<Names> {
    const cached = this.#fresh(this.#profiles, scope, refresh ? MISS_RETRY_MS : TTL_MS);
    if (cached) return cached;
    const value = names(await client.applicationPortProfiles.list());
    this.#profiles.set(scope, { value, at: this.#now() });
    return value;
  }
}

/** Looks a name or id up, refreshing the listing once when it is missing. */
export async function resolveRef(ref: CloudRef, load: (refresh: boolean) => Promise<Names>): Promise<{ id: string; name: string } | undefined> {
  for (const refresh of [false, true]) {
    const n = await load(refresh);
    if (ref.id && n.byId.has(ref.id)) return { id: ref.id, name: n.byId.get(ref.id) ?? '' };
    const id = ref.name ? n.byName.get(ref.name) : undefined;
    if (id) return { id, name: ref.name ?? '' };
  }
  return undefined;
}
