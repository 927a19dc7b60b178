// Turns references by name (an org, a provider gateway) into VCD ids, through the connection's
// lookups and the shared directory cache. Ids are used as given: VCD refuses an unknown one on
// write, and that refusal is reported.
import type { CloudRef } from '../../api/index.ts';
import type { VcdClient } from '../../clients/vcd/index.ts';
import type { Directory } from '../../reconcile/index.ts';

export interface CloudDirectory {
  orgId(client: VcdClient, ref: CloudRef): Promise<string | undefined>;
  providerGatewayId(client: VcdClient, ref: CloudRef): Promise<string | undefined>;
}

export function clientDirectory(directory: Directory): CloudDirectory {
  // Names are per connection: each client gets its own scope in the shared cache.
  const scopes = new WeakMap<VcdClient, number>();
  let next = 0;
  const scope = (client: VcdClient): number => {
    let s = scopes.get(client);
    if (s === undefined) scopes.set(client, (s = next++));
    return s;
  };
  const lookup = (client: VcdClient, kind: 'org' | 'gateway', ref: CloudRef): Promise<string | undefined> => {
    if (ref.id) return Promise.resolve(ref.id);
    const name = ref.name;
    if (name === undefined) return Promise.resolve(undefined);
    return directory.resolve(`ipspace/${scope(client)}|${kind}|${name}`, async () => {
      const found = kind === 'org' ? await client.orgs.findByName(name) : await client.externalNetworks.findByName(name);
      return found?.id;
    });
  };
  return {
    orgId: (client, ref) => lookup(client, 'org', ref),
    providerGatewayId: (client, ref) => lookup(client, 'gateway', ref),
  };
}
