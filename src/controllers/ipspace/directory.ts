// Turns references by name (an org, a provider gateway) into VCD ids. The VCD client has no
// lookup of organizations or external networks yet, so the default directory learns names from
// what a provider connection can list: edge gateways name their org and their provider-gateway
// uplinks, IP Space summaries name the org of Private spaces. A name nothing mentions yet cannot
// be resolved this way; the condition then asks for the id. Ids are used as given: VCD refuses an
// unknown one on write, and that refusal is reported.
import type { CloudRef } from '../../api/index.ts';
import type { VcdClient } from '../../clients/vcd/index.ts';

export interface CloudDirectory {
  orgId(client: VcdClient, ref: CloudRef): Promise<string | undefined>;
  providerGatewayId(client: VcdClient, ref: CloudRef): Promise<string | undefined>;
}

interface Learned {
  at: number;
  orgs: Map<string, string>;
  gateways: Map<string, string>;
}

/**
 * The default directory. What it learns from one listing is kept for `ttlMs` per client, so a
 * drift check of many IP Spaces costs one listing, not one per reference.
 */
export function inferredDirectory(opts: { ttlMs?: number; now?: () => number } = {}): CloudDirectory {
  const ttlMs = opts.ttlMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const cache = new WeakMap<VcdClient, Promise<Learned>>();

  const learn = async (client: VcdClient): Promise<Learned> => {
    const learned: Learned = { at: now(), orgs: new Map(), gateways: new Map() };
    const [edges, spaces] = await Promise.all([client.edgeGateways.list(), client.ipSpaces.list()]);
    for (const e of edges) {
      if (e.orgRef?.name && e.orgRef.id) learned.orgs.set(e.orgRef.name, e.orgRef.id);
      for (const u of e.edgeGatewayUplinks ?? []) {
        if (u.uplinkName && u.uplinkId && u.backingType !== 'IMPORTED_T_LOGICAL_SWITCH') learned.gateways.set(u.uplinkName, u.uplinkId);
      }
    }
    for (const s of spaces) if (s.orgRef?.name && s.orgRef.id) learned.orgs.set(s.orgRef.name, s.orgRef.id);
    return learned;
  };

  const lookup = async (client: VcdClient, pick: (l: Learned) => Map<string, string>, name: string): Promise<string | undefined> => {
    let entry = cache.get(client);
    const fresh = async (): Promise<Learned> => {
      const p = learn(client);
      cache.set(client, p);
      p.catch(() => cache.delete(client));
      return p;
    };
    if (!entry) entry = fresh();
    let learned = await entry;
    // A name not seen yet may have appeared since (a new edge): learn again, at most once per TTL.
    if (!pick(learned).has(name) && now() - learned.at >= ttlMs / 10) learned = await fresh();
    else if (now() - learned.at >= ttlMs) learned = await fresh();
    return pick(learned).get(name);
  };

  return {
    async orgId(client, ref) {
      if (ref.id) return ref.id;
      return ref.name === undefined ? undefined : lookup(client, (l) => l.orgs, ref.name);
    },
    async providerGatewayId(client, ref) {
      if (ref.id) return ref.id;
      return ref.name === undefined ? undefined : lookup(client, (l) => l.gateways, ref.name);
    },
  };
}
