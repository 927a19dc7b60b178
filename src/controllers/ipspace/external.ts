// The IP Space in VCD as one IPSpace object sees it (crossplane's "external client"): observe it
// (by id, or by name plus our marker), create, update, delete, and bring its uplinks and per-org
// quotas in line. Every write is reported through `onWrite`, so the controller can record an Event.
import { VCD_IP_SPACE_TYPE, type IPSpace } from '../../api/index.ts';
import { VcdNotFoundError, type IpSpace, type VcdClient } from '../../clients/vcd/index.ts';
import { desiredIpSpace, diffIpSpace, updateBody } from './desired.ts';
import type { CloudDirectory } from './directory.ts';
import { isOwnedBy, joinDescription, markerFor, Problem, splitDescription, type MarkerInput } from '../../reconcile/index.ts';
import { IPSpaceReasons } from './problems.ts';
import { describeRef, planQuotas } from './quotas.ts';

export interface Write {
  reason: string;
  message: string;
}

export type Found = { kind: 'ours'; space: IpSpace } | { kind: 'foreign'; space: IpSpace } | { kind: 'none' };

export interface UplinkStatus {
  name: string;
  id: string;
}

export class ExternalIPSpace {
  readonly #client: VcdClient;
  readonly #directory: CloudDirectory;
  readonly #obj: IPSpace;
  readonly #me: MarkerInput;
  readonly #onWrite: (w: Write) => void;
  #orgId: string | undefined;

  constructor(o: { client: VcdClient; directory: CloudDirectory; obj: IPSpace; clusterId: string; onWrite: (w: Write) => void }) {
    this.#client = o.client;
    this.#directory = o.directory;
    this.#obj = o.obj;
    this.#onWrite = o.onWrite;
    this.#me = markerFor(o.clusterId, 'IPSpace', o.obj);
  }

  /** The IP Space's name in VCD. */
  get name(): string {
    return this.#obj.spec.name ?? this.#obj.metadata?.name ?? '';
  }

  /** The IP Space with this id, or undefined when VCD does not know it. */
  async get(id: string): Promise<IpSpace | undefined> {
    try {
      return await this.#client.ipSpaces.get(id);
    } catch (err) {
      if (err instanceof VcdNotFoundError) return undefined;
      throw err;
    }
  }

  /** The IP Space of our name (and type, and org when Private), and whether our marker is on it. */
  async find(): Promise<Found> {
    const space = await this.#client.ipSpaces.findByName(this.name, { type: VCD_IP_SPACE_TYPE[this.#obj.spec.type], ...(await this.#orgFilter()) });
    if (!space) return { kind: 'none' };
    return isOwnedBy(splitDescription(space.description).marker, this.#me) ? { kind: 'ours', space } : { kind: 'foreign', space };
  }

  /** The body VCD should hold; `current` supplies the description text when the spec has none. */
  async desired(current?: IpSpace): Promise<IpSpace> {
    const text = this.#obj.spec.description ?? splitDescription(current?.description).text;
    const orgId = this.#obj.spec.type === 'Private' ? await this.#requireOrgId() : undefined;
    return desiredIpSpace(this.#obj.spec, { name: this.name, description: joinDescription(text, this.#me), ...(orgId ? { orgId } : {}) });
  }

  async create(): Promise<IpSpace> {
    const body = await this.desired();
    const created = await this.#client.ipSpaces.create(body);
    this.#onWrite({ reason: 'Created', message: `Created IP Space ${created.name} (${created.id ?? '?'}) in VCD.` });
    return created;
  }

  /** PUTs the whole object when anything differs; returns the IP Space as VCD now holds it. */
  async update(current: IpSpace): Promise<IpSpace> {
    const desired = await this.desired(current);
    const fields = diffIpSpace(desired, current, this.#obj.spec.type);
    if (fields.length === 0 || !current.id) return current;
    const updated = await this.#client.ipSpaces.update(current.id, updateBody(desired, current));
    this.#onWrite({ reason: 'Updated', message: `Updated IP Space ${current.id} in VCD: ${fields.join(', ')}.` });
    return updated;
  }

  /** Deletes the IP Space; resolves false when it was already gone. */
  async delete(id: string): Promise<boolean> {
    const deleted = await this.#client.ipSpaces.delete(id);
    if (deleted) this.#onWrite({ reason: 'Deleted', message: `Deleted IP Space ${id} from VCD.` });
    return deleted;
  }

  /**
   * Makes the uplinks match spec.uplinks: one per provider gateway, created, renamed or deleted
   * as needed. Only uplinks this object recorded in its status are ever deleted. Returns the
   * uplinks as they now exist and the gateways that could not be resolved.
   */
  async syncUplinks(spaceId: string, recorded: readonly UplinkStatus[]): Promise<{ uplinks: UplinkStatus[]; unresolved: string[] }> {
    const api = this.#client.ipSpaces.uplinks;
    const uplinks: UplinkStatus[] = [];
    const unresolved: string[] = [];
    for (const u of this.#obj.spec.uplinks ?? []) {
      const gatewayId = await this.#directory.providerGatewayId(this.#client, u.providerGateway);
      if (!gatewayId) {
        unresolved.push(describeRef(u.providerGateway));
        // Not knowing the gateway is no reason to drop an uplink made earlier.
        const known = recorded.find((r) => r.name === u.name);
        if (known) uplinks.push(known);
        continue;
      }
      const existing = (await api.list({ externalNetworkId: gatewayId, filter: `ipSpaceRef.id==${spaceId}` })).find((x) => x.ipSpaceRef.id === spaceId);
      const description = u.description ?? '';
      if (!existing?.id) {
        const made = await api.create({ name: u.name, description, externalNetworkRef: { id: gatewayId }, ipSpaceRef: { id: spaceId } });
        this.#onWrite({
          reason: 'UplinkCreated',
          message: `Connected the IP Space to provider gateway ${describeRef(u.providerGateway)} as uplink ${u.name}.`,
        });
        uplinks.push({ name: u.name, id: made.id ?? '' });
        continue;
      }
      if (existing.name !== u.name || (existing.description ?? '') !== description) {
        await api.update(existing.id, { ...existing, name: u.name, description });
        this.#onWrite({ reason: 'UplinkUpdated', message: `Updated uplink ${u.name} to provider gateway ${describeRef(u.providerGateway)}.` });
      }
      uplinks.push({ name: u.name, id: existing.id });
    }
    const kept = new Set(uplinks.map((u) => u.id));
    for (const r of recorded) {
      if (kept.has(r.id)) continue;
      await api.delete(r.id);
      this.#onWrite({ reason: 'UplinkDeleted', message: `Deleted uplink ${r.name} (${r.id}).` });
    }
    return { uplinks, unresolved };
  }

  /** Writes the custom quotas spec.orgQuotas asks for; returns the orgs VCD has not assigned yet. */
  async syncQuotas(spaceId: string): Promise<{ waiting: string[] }> {
    if (this.#obj.spec.orgQuotas === undefined) return { waiting: [] };
    const api = this.#client.ipSpaces.orgAssignments;
    const plan = planQuotas(this.#obj.spec.orgQuotas, await api.list({ ipSpaceId: spaceId }));
    for (const u of plan.updates) {
      if (!u.assignment.id) continue;
      await api.update(u.assignment.id, u.customQuotas);
      this.#onWrite({
        reason: 'QuotasUpdated',
        message: u.customQuotas ? `Set custom quotas of org ${u.org}.` : `Reset the custom quotas of org ${u.org} to the IP Space defaults.`,
      });
    }
    return { waiting: plan.waiting };
  }

  async #orgFilter(): Promise<{ orgId?: string }> {
    return this.#obj.spec.type === 'Private' ? { orgId: await this.#requireOrgId() } : {};
  }

  async #requireOrgId(): Promise<string> {
    const ref = this.#obj.spec.org;
    if (!ref) throw new Problem(IPSpaceReasons.InvalidSpec, 'A Private IP Space needs spec.org.');
    this.#orgId ??= await this.#directory.orgId(this.#client, ref);
    if (!this.#orgId) {
      throw new Problem(
        IPSpaceReasons.OrgNotFound,
        `Cannot find organization ${describeRef(ref)} through this connection. If it exists, reference it by id (spec.org.id: urn:vcloud:org:<uuid>); ` +
          'organizations are found by name only once they have an edge gateway or a Private IP Space.',
      );
    }
    return this.#orgId;
  }
}
