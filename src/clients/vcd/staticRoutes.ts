// Static routes of an NSX-T edge gateway (API 37.0+). Two things differ from other CloudAPI
// collections: the list is cursor-paged (no page/filter parameters, a bare { values } body), and
// the task of a create names the edge as Owner, with the new route's id in Details. Writes take
// the edge's lock, as VCD runs one edge operation at a time.
import type { TaskOptions } from './transport.ts';
import { deleteEntity, requireVersion, updateEntity, type VcdContext } from './context.ts';
import { edgeLock } from './edgeGateways.ts';
import { VcdApiError } from './errors.ts';
import { MAX_PAGE_SIZE, parseLinkHeader } from './paging.ts';
import type { EdgeStaticRoute } from './types.ts';

const BASE = '/cloudapi/1.0.0';
const enc = encodeURIComponent;

/** The route's version number, whether VCD sent `{ version: n }` (the spec) or a bare string or number. */
export function routeVersion(route: Pick<EdgeStaticRoute, 'version'>): number | undefined {
  const v = route.version;
  const raw = typeof v === 'object' && v !== null ? v.version : v;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

export class StaticRoutesApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  #collection(edgeId: string): string {
    return `${BASE}/edgeGateways/${enc(edgeId)}/routing/staticRoutes`;
  }

  /** Every static route of the edge, following the cursor in the nextPage link. */
  async list(edgeId: string): Promise<EdgeStaticRoute[]> {
    requireVersion(this.#ctx, 'staticRoutes', 'staticRoutes.list');
    const tenant = await this.#ctx.tenant();
    const out: EdgeStaticRoute[] = [];
    let query: Record<string, string | number> | undefined = { pageSize: MAX_PAGE_SIZE };
    let path = this.#collection(edgeId);
    const seen = new Set<string>();
    for (let guard = 0; guard < 10_000; guard++) {
      const res = await this.#ctx.transport.call({
        operation: 'staticRoutes.list',
        method: 'GET',
        path,
        ...(query ? { query } : {}),
        idempotent: true,
        tenant,
      });
      out.push(...(((res.data ?? {}) as { values?: EdgeStaticRoute[] }).values ?? []));
      const next = parseLinkHeader(res.headers['link']).find((l) => l.rels.includes('nextPage'));
      // A server that repeats a cursor must not keep us here.
      if (!next || seen.has(next.href)) return out;
      seen.add(next.href);
      path = this.#ctx.transport.relative(next.href);
      query = undefined;
    }
    return out;
  }

  async get(edgeId: string, routeId: string): Promise<EdgeStaticRoute> {
    return this.#ctx.transport.getJson<EdgeStaticRoute>({
      operation: 'staticRoutes.get',
      path: `${this.#collection(edgeId)}/${enc(routeId)}`,
      tenant: await this.#ctx.tenant(),
    });
  }

  /**
   * Creates a route and returns its id, read from the task's Details (the task's Owner is the
   * edge). Not safe to repeat: a lost answer is resolved by the caller through its marker.
   */
  async create(edgeId: string, route: EdgeStaticRoute, opts?: TaskOptions): Promise<string> {
    const op = 'staticRoutes.create';
    requireVersion(this.#ctx, 'staticRoutes', op);
    const tenant = await this.#ctx.tenant();
    const { task } = await this.#ctx.locks.run(edgeLock(edgeId), () =>
      this.#ctx.transport.callAndWait({ operation: op, method: 'POST', path: this.#collection(edgeId), body: route, idempotent: false, tenant }, opts),
    );
    const id = task?.details?.trim();
    if (!id)
      throw new VcdApiError({
        operation: op,
        status: 200,
        minorErrorCode: undefined,
        serverMessage: 'the task succeeded but its Details name no route id',
        requestId: undefined,
      });
    return id;
  }

  /** Replaces a route; `route.version` must be the one read (VCD refuses a stale one). */
  async update(edgeId: string, routeId: string, route: EdgeStaticRoute, opts?: TaskOptions): Promise<EdgeStaticRoute> {
    const path = `${this.#collection(edgeId)}/${enc(routeId)}`;
    return this.#ctx.locks.run(edgeLock(edgeId), () => updateEntity<EdgeStaticRoute>(this.#ctx, 'staticRoutes.update', path, { ...route, id: routeId }, opts));
  }

  /** Resolves false when the route was already gone. */
  async delete(edgeId: string, routeId: string, opts?: TaskOptions): Promise<boolean> {
    return this.#ctx.locks.run(edgeLock(edgeId), () => deleteEntity(this.#ctx, 'staticRoutes.delete', `${this.#collection(edgeId)}/${enc(routeId)}`, opts));
  }
}
