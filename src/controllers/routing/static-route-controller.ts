// EdgeStaticRoute on the managed engine: the "cloud object" is the set of static routes this
// object owns on its edge (one, or the two /1 halves of a default route through a segment), found
// by the ownership marker in their description. Routes without our marker are never touched.
// A changed spec updates our routes in place (same ids, VCD's version checked); only a change of
// shape (split or not) creates or deletes.
import { EdgeGatewayUplinkResource, EdgeStaticRouteResource, validateEdgeStaticRoute } from '../../api/index.ts';
import type { CloudRef, EdgeGatewayUplink, EdgeStaticRoute, EdgeStaticRouteStatus } from '../../api/index.ts';
import type { EdgeGateway, EdgeStaticRoute as VcdRoute } from '../../clients/vcd/index.ts';
import { objectKey, type ControllerDefinition, type ReconcileContext } from '../../runtime/index.ts';
import { connectionWatches } from '../../reconcile/connections/index.ts';
import {
  isOwnedBy,
  joinDescription,
  managedController,
  markerFor,
  Problem,
  ready,
  splitDescription,
  type ManagedExternal,
  type Report,
} from '../../reconcile/index.ts';
import { engineOptions, type ControllerDeps } from '../deps.ts';
import { edgeClient, resolveEdge, type EdgeClient } from './edge.ts';
import { RoutingReasons } from './problems.ts';
import { desiredRoutes, planRoutes, type DesiredRoute, type ResolvedHop } from './static-route-plan.ts';

export const STATIC_ROUTE_FINALIZER = 'vcd-operator.io/edge-static-route';
const BY_EDGE = 'byEdge';
type Status = NonNullable<EdgeStaticRouteStatus>;

export function edgeStaticRouteController(deps: ControllerDeps, opts: { retryMs?: number } = {}): ControllerDefinition<EdgeStaticRoute> {
  const engine = engineOptions(deps, opts);
  const byConnection = connectionWatches<EdgeStaticRoute>(deps.manager, 'edgestaticroute', (o) => o.spec.connectionRef);
  return managedController<EdgeStaticRoute, EdgeClient, Status>(
    {
      name: 'edgestaticroute',
      resource: EdgeStaticRouteResource,
      finalizer: STATIC_ROUTE_FINALIZER,
      indexers: {
        ...byConnection.indexers,
        [BY_EDGE]: (o) => [edgeIndexKey(o.spec.edgeGateway)],
      },
      watches: [
        ...byConnection.watches,
        // A route through a segment waits for its attachment: look again when an uplink of the edge changes.
        {
          resource: EdgeGatewayUplinkResource,
          keysFor: (u) =>
            deps.manager.byIndex<EdgeStaticRoute>('edgestaticroute', BY_EDGE, edgeIndexKey((u as EdgeGatewayUplink).spec.edgeGateway)).map(objectKey),
        },
      ],
      validate: (obj) => validateEdgeStaticRoute.problem(obj),
      connect: (obj) =>
        edgeClient(deps, {
          connectionRef: obj.spec.connectionRef,
          org: obj.spec.org,
          namespace: obj.metadata?.namespace ?? '',
          feature: 'staticRoutes',
          what: 'Static routes',
        }),
      external: (obj, ec, ctx) => routesExternal(obj, ec, ctx, deps),
      knownId: (obj) => obj.status?.id,
      deletionPolicy: (obj) => obj.spec.deletionPolicy ?? 'Delete',
      describe: (obj) => `static route ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`,
    },
    engine,
  );
}

function edgeIndexKey(ref: CloudRef): string {
  return ref.id ?? `name:${ref.name ?? ''}`;
}

function routesExternal(obj: EdgeStaticRoute, ec: EdgeClient, ctx: ReconcileContext<EdgeStaticRoute>, deps: ControllerDeps): ManagedExternal<Status> {
  const me = markerFor(deps.clusterId, 'EdgeStaticRoute', obj);
  const api = ec.client.staticRoutes;
  const event = (reason: string, message: string) => ctx.events.record(obj, { type: 'Normal', reason, message });
  let edge: EdgeGateway | undefined;
  let ours: VcdRoute[] | undefined;

  const theEdge = async (): Promise<EdgeGateway> => (edge ??= await resolveEdge(deps, ec, obj.spec.edgeGateway));
  const listOurs = async (): Promise<VcdRoute[]> => {
    const e = await theEdge();
    ours = (await api.list(e.id ?? '')).filter((r) => isOwnedBy(splitDescription(r.description).marker, me));
    return ours;
  };

  let want: { routes: DesiredRoute[]; split: boolean } | undefined;
  const desired = async (): Promise<{ routes: DesiredRoute[]; split: boolean }> => {
    if (want) return want;
    const e = await theEdge();
    const hops = await resolveHops(obj, e, ec);
    return (want = desiredRoutes({
      name: obj.spec.name ?? obj.metadata?.name ?? '',
      description: joinDescription(obj.spec.description ?? '', me),
      destination: obj.spec.destination,
      hops,
    }));
  };

  const explainSplit = (routes: DesiredRoute[]) =>
    event(
      'DefaultRouteSplit',
      `Wrote ${obj.spec.destination} as ${routes.map((r) => r.networkCidr).join(' and ')}: the next hop is on a segment-backed network, and the edge's Tier-1 keeps its own default route to the Tier-0, so only more specific routes take effect.`,
    );

  return {
    async observe() {
      const found = await listOurs();
      // Resolved before any write, so a wrong scope is refused before the create guard is set.
      if (!found.length) await desired();
      return found.length ? { id: found.map((r) => r.id ?? '').join(',') } : undefined;
    },
    async create() {
      const e = await theEdge();
      const want = await desired();
      const ids: string[] = [];
      for (const r of want.routes) {
        const id = await api.create(e.id ?? '', r);
        ids.push(id);
        event('Created', `Created static route ${r.networkCidr} (${id}) on edge gateway ${e.name}.`);
      }
      if (want.split) explainSplit(want.routes);
      ours = undefined;
      return ids.join(',');
    },
    async sync(): Promise<Report<Status>> {
      const e = await theEdge();
      const want = await desired();
      const plan = planRoutes(want.routes, ours ?? (await listOurs()));
      for (const u of plan.update) {
        await api.update(e.id ?? '', u.id, u.body);
        event('Updated', `Updated static route ${u.body.networkCidr} (${u.id}) in place on edge gateway ${e.name}.`);
      }
      for (const r of plan.remove) {
        await api.delete(e.id ?? '', r.id ?? '');
        event('Deleted', `Deleted static route ${r.networkCidr} (${r.id ?? '?'}), which the spec no longer asks for.`);
      }
      for (const r of plan.create) {
        const id = await api.create(e.id ?? '', r);
        event('Created', `Created static route ${r.networkCidr} (${id}) on edge gateway ${e.name}.`);
      }
      if (plan.create.length && want.split) explainSplit(want.routes);
      const now = plan.create.length || plan.remove.length ? await listOurs() : (ours ?? []);
      const byCidr = want.routes.map((d) => now.find((r) => r.networkCidr === d.networkCidr || r.name === d.name)?.id ?? '');
      const ids = byCidr.filter((id) => id !== '');
      const fields = (s: Status): void => {
        s.id = ids.join(',');
        s.routeIds = ids;
        s.writtenAs = want.routes.map((r) => r.networkCidr);
        s.edgeGatewayId = e.id ?? '';
      };
      const shown = want.split ? `${obj.spec.destination} (written as ${want.routes.map((r) => r.networkCidr).join(' and ')})` : obj.spec.destination;
      return { outcome: ready(RoutingReasons.Available, `Static route ${shown} is on edge gateway ${e.name} as specified: ${ids.join(', ')}.`), fields };
    },
    async delete() {
      let e: EdgeGateway;
      try {
        e = await theEdge();
      } catch (err) {
        // The edge is gone, and its routes with it.
        if (err instanceof Problem && err.reason === RoutingReasons.EdgeGatewayNotFound) return;
        throw err;
      }
      for (const r of ours ?? (await listOurs())) {
        if (await api.delete(e.id ?? '', r.id ?? '')) event('Deleted', `Deleted static route ${r.networkCidr} (${r.id ?? '?'}) from edge gateway ${e.name}.`);
      }
    },
  };
}

/** Next hops with their scopes resolved to the networks of this edge. */
async function resolveHops(obj: EdgeStaticRoute, edge: EdgeGateway, ec: EdgeClient): Promise<ResolvedHop[]> {
  let networks: { id: string; name: string }[] | undefined;
  const out: ResolvedHop[] = [];
  for (const [i, h] of obj.spec.nextHops.entries()) {
    const hop: ResolvedHop = { ipAddress: h.ipAddress, adminDistance: h.adminDistance ?? 1 };
    if (h.scope?.externalNetwork !== undefined) {
      const name = h.scope.externalNetwork;
      const uplink = (edge.edgeGatewayUplinks ?? []).find((u) => u.uplinkName === name);
      if (!uplink?.uplinkId) {
        throw new Problem(
          RoutingReasons.NetworkNotFound,
          `nextHops[${i}].scope.externalNetwork: ${name} is not attached to edge gateway ${edge.name}. Attach it (EdgeGatewayUplink) or fix the name.`,
        );
      }
      if (uplink.backingType !== 'IMPORTED_T_LOGICAL_SWITCH') {
        throw new Problem(
          RoutingReasons.NotASegment,
          `nextHops[${i}].scope.externalNetwork: ${name} is the edge's provider gateway, not a segment-backed network; leave scope out for next hops towards the Tier-0.`,
        );
      }
      hop.scope = { id: uplink.uplinkId, name, segment: true };
    } else if (h.scope?.network !== undefined) {
      const name = h.scope.network;
      // The filter narrows the list; the check on routerRef is what we rely on.
      networks ??= (await ec.client.orgVdcNetworks.list({ filter: `connection.routerRef.id==${edge.id ?? ''}` }))
        .filter((n) => n.connection?.routerRef?.id === edge.id && n.id)
        .map((n) => ({ id: n.id ?? '', name: n.name }));
      const net = networks.find((n) => n.name === name);
      if (!net)
        throw new Problem(
          RoutingReasons.NetworkNotFound,
          `nextHops[${i}].scope.network: no org VDC network ${name} is connected to edge gateway ${edge.name}.`,
        );
      hop.scope = { id: net.id, name, segment: false };
    }
    out.push(hop);
  }
  return out;
}
