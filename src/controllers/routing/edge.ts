// What the routing controllers share: the client for an object (connection, org, API version)
// and its edge gateway by name or id, through the shared directory cache.
import type { CloudRef, ConnectionRef } from '../../api/index.ts';
import { atLeast, FEATURES, VcdNotFoundError, type EdgeGateway, type Feature, type VcdClient } from '../../clients/vcd/index.ts';
import { connectionKeyOf } from '../../reconcile/connections/index.ts';
import { Problem } from '../../reconcile/index.ts';
import type { ControllerDeps } from '../deps.ts';
import { RoutingReasons } from './problems.ts';

export interface EdgeClient {
  client: VcdClient;
  /** `<connection>|<org>`: the prefix of this client's directory entries. */
  scope: string;
}

/**
 * A client acting for the object's org (a provider connection with spec.org acts inside that org),
 * checked for the API version the feature needs. Throws a Problem when there is none.
 */
export async function edgeClient(
  deps: ControllerDeps,
  o: { connectionRef: ConnectionRef; org?: CloudRef | undefined; namespace: string; feature: Feature; what: string; asProvider?: boolean },
): Promise<EdgeClient> {
  const res = await deps.pool.resolve(o.connectionRef, o.namespace, o.org ? { org: o.org } : {});
  if (!res.ok) throw new Problem(res.reason, res.message);
  let client = res.client;
  const need = FEATURES[o.feature].version;
  if (!atLeast(client.apiVersion, need)) {
    throw new Problem(RoutingReasons.UnsupportedAPIVersion, `${o.what} needs VCD API ${need} or newer; this connection uses API ${client.apiVersion}.`);
  }
  const connection = connectionKeyOf(o.connectionRef.kind, o.connectionRef.name, o.namespace);
  if (o.asProvider && !client.isProvider) {
    throw new Problem(
      RoutingReasons.ProviderRequired,
      `${o.what} needs provider rights: point spec.connectionRef at a connection to org System (a ClusterVCDConnection).`,
    );
  }
  if (client.isProvider && o.org && !o.asProvider) {
    let name = res.org?.name;
    const id = res.org?.id;
    if (name === undefined && id !== undefined) name = (await deps.directory.resolve(`${connection}|org|${id}`, () => client.orgs.get(id)))?.name;
    if (name === undefined) throw new Problem(RoutingReasons.OrgNotFound, `No organization ${o.org.id ?? o.org.name ?? ''} exists in VCD. Check spec.org.`);
    client = client.forOrg(id ? { name, id } : name);
    return { client, scope: `${connection}|${name.toLowerCase()}` };
  }
  return { client, scope: `${connection}|` };
}

/** The edge gateway a reference names, read fresh; a Problem when VCD does not know it. */
export async function resolveEdge(deps: ControllerDeps, ec: EdgeClient, ref: CloudRef, org?: CloudRef): Promise<EdgeGateway> {
  const notFound = () =>
    new Problem(
      RoutingReasons.EdgeGatewayNotFound,
      `No edge gateway ${ref.id ?? ref.name ?? ''} is visible through this connection. Check spec.edgeGateway (name or id) and the org.`,
    );
  const key = `${ec.scope}|edge|${org?.id ?? org?.name ?? ''}|${ref.id ?? ''}|${ref.name ?? ''}`;
  const id =
    ref.id ??
    (await deps.directory.resolve(key, async () => {
      // A provider sees every org's edges: the org, when given, tells same-named edges apart.
      const orgId = org?.id ?? (org?.name ? (await ec.client.orgs.findByName(org.name))?.id : undefined);
      return (await ec.client.edgeGateways.findByName(ref.name ?? '', orgId ? { orgId } : {}))?.id;
    }));
  if (!id) throw notFound();
  try {
    return await ec.client.edgeGateways.get(id);
  } catch (err) {
    if (!(err instanceof VcdNotFoundError)) throw err;
    deps.directory.forget(key);
    throw notFound();
  }
}
