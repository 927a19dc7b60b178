// NSX-T edge gateways, their firewall (one ordered list per edge, written whole), firewall groups
// (IP sets) and application port profiles. Writes per edge are serialised inside the client, as
// VCD processes one edge operation at a time and answers BUSY_ENTITY otherwise.
import type { TaskOptions } from './transport.ts';
import { andFilter, createEntity, deleteEntity, needsClientSideMatch, requireVersion, updateEntity, type VcdContext } from './context.ts';
import { VcdAmbiguousNameError } from './errors.ts';
import type { ApplicationPortProfile, EdgeFirewallRule, EdgeFirewallRules, EdgeGateway, FirewallGroup, OrgVdcNetwork } from './types.ts';

const BASE = '/cloudapi/1.0.0';
const enc = encodeURIComponent;

export function edgeLock(edgeId: string): string {
  return `edge:${edgeId}`;
}

export class EdgeGatewaysApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  async list(opts: { filter?: string } = {}): Promise<EdgeGateway[]> {
    return this.#ctx.transport.listAll<EdgeGateway>({
      operation: 'edgeGateways.list',
      path: `${BASE}/edgeGateways`,
      query: { filter: opts.filter },
      tenant: await this.#ctx.tenant(),
    });
  }

  async get(id: string): Promise<EdgeGateway> {
    return this.#ctx.transport.getJson<EdgeGateway>({
      operation: 'edgeGateways.get',
      path: `${BASE}/edgeGateways/${enc(id)}`,
      tenant: await this.#ctx.tenant(),
    });
  }

  /**
   * Read-modify-write of the edge under its lock (VCD writes an edge whole; it has no partial
   * update of uplinks): `change` gets the edge as VCD returned it and returns the edge to write,
   * or undefined to write nothing. Pass it back with only the intended change: every other field,
   * known to this client or not, is sent as VCD returned it. Safe to repeat.
   */
  async modify(id: string, change: (edge: EdgeGateway) => EdgeGateway | undefined, opts?: TaskOptions): Promise<{ edge: EdgeGateway; written: boolean }> {
    const path = `${BASE}/edgeGateways/${enc(id)}`;
    return this.#ctx.locks.run(edgeLock(id), async () => {
      const current = await this.get(id);
      const next = change(structuredClone(current));
      if (!next) return { edge: current, written: false };
      return { edge: await updateEntity<EdgeGateway>(this.#ctx, 'edgeGateways.update', path, next, opts), written: true };
    });
  }

  /** The edge with this name (optionally within one org), or undefined; ambiguous names throw. */
  async findByName(name: string, opts: { orgId?: string } = {}): Promise<EdgeGateway | undefined> {
    const filter = andFilter(needsClientSideMatch(name) ? undefined : `name==${name}`, opts.orgId && `orgRef.id==${opts.orgId}`);
    const found = (await this.list(filter ? { filter } : {})).filter((e) => e.name === name);
    if (found.length > 1)
      throw new VcdAmbiguousNameError(
        'edgeGateways.findByName',
        name,
        found.map((e) => e.id ?? '?'),
      );
    return found[0];
  }
}

export class FirewallApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** The edge's whole rule container: system, user-defined and default rules, in order. */
  async get(edgeId: string): Promise<EdgeFirewallRules> {
    return this.#ctx.transport.getJson<EdgeFirewallRules>({
      operation: 'firewall.get',
      path: `${BASE}/edgeGateways/${enc(edgeId)}/firewall/rules`,
      tenant: await this.#ctx.tenant(),
    });
  }

  /**
   * Replaces the edge's user-defined rules with `rules`, in that order (rules with a known id are
   * updated, others created, missing ones deleted), and returns the container as stored. Safe to
   * repeat, so it is retried after 5xx and lost responses. Rules with appliedTo need API 37.1.
   */
  async put(edgeId: string, rules: EdgeFirewallRule[], opts?: TaskOptions): Promise<EdgeFirewallRules> {
    const op = 'firewall.put';
    if (rules.some((r) => r.appliedTo)) requireVersion(this.#ctx, 'firewallAppliedTo', op);
    const path = `${BASE}/edgeGateways/${enc(edgeId)}/firewall/rules`;
    return this.#ctx.locks.run(edgeLock(edgeId), () => updateEntity<EdgeFirewallRules>(this.#ctx, op, path, { userDefinedRules: rules }, opts));
  }
}

export class FirewallGroupsApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** Group summaries; with edgeGatewayId, the groups usable on that edge (`_context`). */
  async list(opts: { edgeGatewayId?: string; filter?: string } = {}): Promise<FirewallGroup[]> {
    return this.#ctx.transport.listAll<FirewallGroup>({
      operation: 'firewallGroups.list',
      path: `${BASE}/firewallGroups/summaries`,
      query: { filter: andFilter(opts.edgeGatewayId && `_context==${opts.edgeGatewayId}`, opts.filter) },
      tenant: await this.#ctx.tenant(),
    });
  }

  async get(id: string): Promise<FirewallGroup> {
    return this.#ctx.transport.getJson<FirewallGroup>({
      operation: 'firewallGroups.get',
      path: `${BASE}/firewallGroups/${enc(id)}`,
      tenant: await this.#ctx.tenant(),
    });
  }

  /** Creates a group (ownerRef names the edge) and returns it as stored. */
  async create(body: FirewallGroup, opts?: TaskOptions): Promise<FirewallGroup> {
    return this.#onEdge(body.ownerRef?.id, () => createEntity<FirewallGroup>(this.#ctx, 'firewallGroups.create', `${BASE}/firewallGroups`, body, opts));
  }

  async update(id: string, body: FirewallGroup, opts?: TaskOptions): Promise<FirewallGroup> {
    return this.#onEdge(body.ownerRef?.id, () =>
      updateEntity<FirewallGroup>(this.#ctx, 'firewallGroups.update', `${BASE}/firewallGroups/${enc(id)}`, { ...body, id }, opts),
    );
  }

  /** Resolves false when the group was already gone. Pass the edge id to serialise with its other writes. */
  async delete(id: string, opts: TaskOptions & { edgeGatewayId?: string } = {}): Promise<boolean> {
    return this.#onEdge(opts.edgeGatewayId, () => deleteEntity(this.#ctx, 'firewallGroups.delete', `${BASE}/firewallGroups/${enc(id)}`, opts));
  }

  #onEdge<T>(edgeId: string | undefined, fn: () => Promise<T>): Promise<T> {
    return edgeId ? this.#ctx.locks.run(edgeLock(edgeId), fn) : fn();
  }
}

export class ApplicationPortProfilesApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** Profiles, e.g. filter `scope==SYSTEM` or `_context==<edgeId>` as VCD documents. */
  async list(opts: { filter?: string } = {}): Promise<ApplicationPortProfile[]> {
    return this.#ctx.transport.listAll<ApplicationPortProfile>({
      operation: 'applicationPortProfiles.list',
      path: `${BASE}/applicationPortProfiles`,
      query: { filter: opts.filter },
      tenant: await this.#ctx.tenant(),
    });
  }

  /** Creates a profile (TENANT scope unless the body says otherwise) and returns it as stored. */
  async create(body: ApplicationPortProfile, opts?: TaskOptions): Promise<ApplicationPortProfile> {
    return createEntity<ApplicationPortProfile>(this.#ctx, 'applicationPortProfiles.create', `${BASE}/applicationPortProfiles`, body, opts);
  }

  /** Resolves false when the profile was already gone. */
  async delete(id: string, opts: TaskOptions = {}): Promise<boolean> {
    return deleteEntity(this.#ctx, 'applicationPortProfiles.delete', `${BASE}/applicationPortProfiles/${enc(id)}`, opts);
  }
}

export class OrgVdcNetworksApi {
  readonly #ctx: VcdContext;

  constructor(ctx: VcdContext) {
    this.#ctx = ctx;
  }

  /** Org VDC networks, e.g. filter `connection.routerRef.id==<edgeId>` for those routed by an edge. */
  async list(opts: { filter?: string } = {}): Promise<OrgVdcNetwork[]> {
    return this.#ctx.transport.listAll<OrgVdcNetwork>({
      operation: 'orgVdcNetworks.list',
      path: `${BASE}/orgVdcNetworks`,
      query: { filter: opts.filter },
      tenant: await this.#ctx.tenant(),
    });
  }

  /** The org VDC networks routed through this edge gateway (connection.routerRef). */
  async listOnEdge(edgeId: string): Promise<Array<{ id: string; name: string }>> {
    const items = await this.list({ filter: `connection.routerRef.id==${edgeId}` });
    // Matched again here: the filter narrows the list, the check is what we rely on.
    return items.filter((n) => n.connection?.routerRef?.id === edgeId && n.id && n.name).map((n) => ({ id: n.id ?? '', name: n.name }));
  }
}
