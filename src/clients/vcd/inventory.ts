// Lookups of what the operator references by name but does not manage: organizations and
// external networks (provider gateways). Names are unique in VCD for both.
import { andFilter, needsClientSideMatch, type VcdContext } from './context.ts';
import { VcdNotFoundError } from './errors.ts';

const BASE = '/cloudapi/1.0.0';

export interface ExternalNetwork {
  id?: string;
  name?: string;
  networkBackings?: { values?: { backingId?: string; backingTypeValue?: string; backingType?: string; name?: string; isNsxTVlanSegment?: boolean }[] };
  /** 37.1+: whether the backing segment is a VLAN segment (one edge gateway per VLAN segment). */
  isNsxTVlanSegment?: boolean;
  [field: string]: unknown;
}

export interface NamedEntity {
  id: string;
  name: string;
}

async function findByName(ctx: VcdContext, operation: string, path: string, name: string): Promise<NamedEntity | undefined> {
  const filter = andFilter(needsClientSideMatch(name) ? undefined : `name==${name}`);
  const items = await ctx.transport.listAll<{ id?: string; name?: string }>({ operation, path, query: { filter }, tenant: await ctx.tenant() });
  const hit = items.find((i) => i.name === name && i.id);
  return hit?.id && hit.name ? { id: hit.id, name: hit.name } : undefined;
}

export class OrgsApi {
  readonly #ctx: VcdContext;
  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** The organization with this name, or undefined (a tenant sees only its own). */
  findByName(name: string): Promise<NamedEntity | undefined> {
    return findByName(this.#ctx, 'orgs.findByName', `${BASE}/orgs`, name);
  }

  /** The organization with this id, or undefined when VCD does not know it (or hides it). */
  async get(id: string): Promise<NamedEntity | undefined> {
    try {
      const o = await this.#ctx.transport.getJson<{ id?: string; name?: string }>({
        operation: 'orgs.get',
        path: `${BASE}/orgs/${encodeURIComponent(id)}`,
        tenant: await this.#ctx.tenant(),
      });
      return o.id && o.name ? { id: o.id, name: o.name } : undefined;
    } catch (err) {
      if (err instanceof VcdNotFoundError) return undefined;
      throw err;
    }
  }
}

export class ExternalNetworksApi {
  readonly #ctx: VcdContext;
  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** The external network (provider gateway or segment-backed network) with this name; provider only. */
  findByName(name: string): Promise<NamedEntity | undefined> {
    return findByName(this.#ctx, 'externalNetworks.findByName', `${BASE}/externalNetworks`, name);
  }

  /** The network with its NSX backings (a Tier-0/VRF id, or a segment id), or undefined when VCD does not know it. */
  async get(id: string): Promise<ExternalNetwork | undefined> {
    try {
      return await this.#ctx.transport.getJson<ExternalNetwork>({
        operation: 'externalNetworks.get',
        path: `${BASE}/externalNetworks/${encodeURIComponent(id)}`,
        tenant: await this.#ctx.tenant(),
      });
    } catch (err) {
      if (err instanceof VcdNotFoundError) return undefined;
      throw err;
    }
  }
}
