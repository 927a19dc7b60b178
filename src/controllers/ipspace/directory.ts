// Turns references by name (an org, a provider gateway) into VCD ids, through the connection's
// lookups. Ids are used as given: VCD refuses an unknown one on write, and that refusal is
// reported. Found ids are kept for a few minutes per client, so a drift check of many IP Spaces
// does not look the same names up again and again.
import type { CloudRef } from '../../api/index.ts';
import type { VcdClient } from '../../clients/vcd/index.ts';

export interface CloudDirectory {
  orgId(client: VcdClient, ref: CloudRef): Promise<string | undefined>;
  providerGatewayId(client: VcdClient, ref: CloudRef): Promise<string | undefined>;
}

export function clientDirectory(opts: { ttlMs?: number; now?: () => number } = {}): CloudDirectory {
  const ttlMs = opts.ttlMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  const cache = new WeakMap<VcdClient, Map<string, { id: string; at: number }>>();

  const lookup = async (client: VcdClient, kind: 'org' | 'gateway', name: string): Promise<string | undefined> => {
    let known = cache.get(client);
    if (!known) cache.set(client, (known = new Map<string, { id: string; at: number }>()));
    const key = `${kind}/${name}`;
    const hit = known.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.id;
    const found = kind === 'org' ? await client.orgs.findByName(name) : await client.externalNetworks.findByName(name);
    if (found) known.set(key, { id: found.id, at: now() });
    else known.delete(key);
    return found?.id;
  };

  return {
    async orgId(client, ref) {
      if (ref.id) return ref.id;
      return ref.name === undefined ? undefined : lookup(client, 'org', ref.name);
    },
    async providerGatewayId(client, ref) {
      if (ref.id) return ref.id;
      return ref.name === undefined ? undefined : lookup(client, 'gateway', ref.name);
    },
  };
}
