// EdgeGatewayUplink on the managed engine: the cloud object is one entry of the edge's
// edgeGatewayUplinks, found by its uplinkId (VCD lists uplinks in no fixed order). The edge is
// written whole, so every write is a read-modify-write under the edge lock that changes our entry
// only and sends every other uplink and field back exactly as VCD returned them. Uplinks carry no
// description to mark, so an entry is ours only when this object made it (status.id, or the
// create guard after a lost answer); one attached by someone else is refused, never taken over.
import { EdgeGatewayUplinkResource, validateEdgeGatewayUplink } from '../../api/index.ts';
import type { EdgeGatewayUplink, EdgeGatewayUplinkStatus } from '../../api/index.ts';
import type { EdgeGateway, EdgeGatewayUplink as VcdUplink, ExternalNetwork } from '../../clients/vcd/index.ts';
import type { ControllerDefinition, ReconcileContext } from '../../runtime/index.ts';
import { connectionWatches } from '../../reconcile/connections/index.ts';
import { managedController, pendingSince, Problem, ready, type ManagedExternal, type Report } from '../../reconcile/index.ts';
import { engineOptions, type ControllerDeps } from '../deps.ts';
import { edgeClient, resolveEdge, type EdgeClient } from './edge.ts';
import { RoutingReasons } from './problems.ts';

export const UPLINK_FINALIZER = 'vcd-operator.io/edge-gateway-uplink';
const SEGMENT_BACKING = 'IMPORTED_T_LOGICAL_SWITCH';
type Status = NonNullable<EdgeGatewayUplinkStatus>;
type Subnet = Record<string, unknown>;

export function edgeGatewayUplinkController(deps: ControllerDeps, opts: { retryMs?: number } = {}): ControllerDefinition<EdgeGatewayUplink> {
  const byConnection = connectionWatches<EdgeGatewayUplink>(deps.manager, 'edgegatewayuplink', (o) => o.spec.connectionRef);
  return managedController<EdgeGatewayUplink, EdgeClient, Status>(
    {
      name: 'edgegatewayuplink',
      resource: EdgeGatewayUplinkResource,
      finalizer: UPLINK_FINALIZER,
      indexers: byConnection.indexers,
      watches: [...byConnection.watches],
      validate: (obj) => validateEdgeGatewayUplink.problem(obj),
      connect: (obj) =>
        edgeClient(deps, {
          connectionRef: obj.spec.connectionRef,
          org: obj.spec.org,
          namespace: obj.metadata?.namespace ?? '',
          feature: 'segmentUplinks',
          what: 'Attaching a segment-backed network to an edge gateway',
          asProvider: true,
        }),
      external: (obj, ec, ctx) => uplinkExternal(obj, ec, ctx, deps),
      knownId: (obj) => obj.status?.id,
      deletionPolicy: (obj) => obj.spec.deletionPolicy ?? 'Delete',
      describe: (obj) =>
        `uplink ${obj.spec.externalNetwork.name ?? obj.spec.externalNetwork.id ?? ''} on edge gateway ${obj.spec.edgeGateway.name ?? obj.spec.edgeGateway.id ?? ''}`,
      deleteBlockedHint: 'Remove what still uses the interface (static routes, NAT or firewall rules applied to it).',
    },
    engineOptions(deps, opts),
  );
}

function uplinkExternal(obj: EdgeGatewayUplink, ec: EdgeClient, ctx: ReconcileContext<EdgeGatewayUplink>, deps: ControllerDeps): ManagedExternal<Status> {
  const edges = ec.client.edgeGateways;
  const event = (reason: string, message: string) => ctx.events.record(obj, { type: 'Normal', reason, message });
  let edge: EdgeGateway | undefined;
  let network: (ExternalNetwork & { id: string; name: string }) | undefined;

  const theEdge = async (): Promise<EdgeGateway> => (edge ??= await resolveEdge(deps, ec, obj.spec.edgeGateway, obj.spec.org));
  const theNetwork = async () => {
    if (network) return network;
    const ref = obj.spec.externalNetwork;
    const id =
      ref.id ??
      (await deps.directory.resolve(
        `${ec.scope}|externalNetwork|${ref.name ?? ''}`,
        async () => (await ec.client.externalNetworks.findByName(ref.name ?? ''))?.id,
      ));
    const found = id ? await ec.client.externalNetworks.get(id) : undefined;
    if (!found?.id) throw new Problem(RoutingReasons.NetworkNotFound, `VCD has no external network ${ref.id ?? ref.name ?? ''}. Check spec.externalNetwork.`);
    if (!(found.networkBackings?.values ?? []).some((b) => b.backingTypeValue === SEGMENT_BACKING)) {
      throw new Problem(
        RoutingReasons.NotASegment,
        `External network ${found.name ?? found.id} is not backed by an NSX segment (it is a provider gateway or a port group); only segment-backed networks attach as service interfaces.`,
      );
    }
    return (network = { ...found, id: found.id, name: found.name ?? found.id });
  };
  const entryOf = (e: EdgeGateway, id: string): VcdUplink | undefined => (e.edgeGatewayUplinks ?? []).find((u) => u.uplinkId === id);

  const desiredSubnet = (current?: Subnet): Subnet => {
    const s = obj.spec.subnet;
    // Ranges are VCD's to pick (autoAllocateIpRanges); the ones it picked before are dropped so a
    // new count takes effect. Other fields of the entry travel back as they came.
    const { ipRanges: _ranges, ...kept } = current ?? {};
    return {
      ...kept,
      gateway: s.gateway,
      prefixLength: s.prefixLength,
      ...(s.primaryIP ? { primaryIp: s.primaryIP } : {}),
      enabled: true,
      autoAllocateIpRanges: true,
      totalIpCount: 1 + (s.extraAddresses ?? 0),
    };
  };
  const connected = obj.spec.connected ?? true;
  const matches = (u: VcdUplink): boolean => {
    const s = obj.spec.subnet;
    const sub = (u.subnets?.values ?? [])[0] as Subnet | undefined;
    return (
      (u.connected ?? true) === connected &&
      sub?.['gateway'] === s.gateway &&
      sub['prefixLength'] === s.prefixLength &&
      (s.primaryIP === undefined || sub['primaryIp'] === s.primaryIP) &&
      sub['totalIpCount'] === 1 + (s.extraAddresses ?? 0)
    );
  };

  /** VCD connects a VLAN segment to one edge gateway; say so before trying. */
  const checkVlan = async (e: EdgeGateway, net: ExternalNetwork & { id: string; name: string }): Promise<void> => {
    if (!(net.networkBackings?.values ?? []).some((b) => b.isNsxTVlanSegment === true) && net.isNsxTVlanSegment !== true) return;
    const other = (await edges.list()).find((x) => x.id !== e.id && entryOf(x, net.id));
    if (other) {
      throw new Problem(
        RoutingReasons.SegmentInUse,
        `${net.name} is a VLAN-backed segment already connected to edge gateway ${other.name}; VCD connects a VLAN segment to one edge gateway only. Detach it there first, or use another segment.`,
      );
    }
  };

  return {
    async observe(knownId) {
      const e = await theEdge();
      const net = await theNetwork();
      if (entryOf(e, net.id)) {
        if (knownId === net.id || pendingSince(obj) !== undefined) return { id: net.id };
        throw new Problem(
          RoutingReasons.AlreadyAttached,
          `${net.name} is already attached to edge gateway ${e.name}, and not by this object; the operator does not take over an interface it did not make. Detach it in VCD, or delete this object.`,
          { requeueAfterMs: deps.driftCheckMs },
        );
      }
      if (knownId)
        ctx.events.record(obj, {
          type: 'Warning',
          reason: 'Vanished',
          message: `${net.name} is no longer attached to edge gateway ${e.name}; attaching it again.`,
        });
      await checkVlan(e, net);
      return undefined;
    },
    async create() {
      const e = await theEdge();
      const net = await theNetwork();
      const { written } = await edges.modify(e.id ?? '', (now) =>
        entryOf(now, net.id)
          ? undefined
          : {
              ...now,
              edgeGatewayUplinks: [
                ...(now.edgeGatewayUplinks ?? []),
                { uplinkId: net.id, uplinkName: net.name, subnets: { values: [desiredSubnet()] }, connected },
              ],
            },
      );
      if (written) event('Attached', `Attached ${net.name} to edge gateway ${e.name}.`);
      edge = undefined;
      return net.id;
    },
    async sync(id): Promise<Report<Status>> {
      const e = await theEdge();
      const net = await theNetwork();
      const { edge: now, written } = await edges.modify(e.id ?? '', (cur) => {
        const uplinks = cur.edgeGatewayUplinks ?? [];
        const i = uplinks.findIndex((u) => u.uplinkId === id);
        const mine = uplinks[i];
        if (!mine)
          throw new Problem(RoutingReasons.ReconcileError, `${net.name} vanished from edge gateway ${e.name} while it was being reconciled; looking again.`, {
            transient: true,
          });
        if (matches(mine)) return undefined;
        const next = [...uplinks];
        next[i] = { ...mine, connected, subnets: { ...mine.subnets, values: [desiredSubnet((mine.subnets?.values ?? [])[0] as Subnet | undefined)] } };
        return { ...cur, edgeGatewayUplinks: next };
      });
      if (written) event('Updated', `Updated the interface on ${net.name} of edge gateway ${e.name}.`);
      const sub = ((entryOf(now, id)?.subnets?.values ?? [])[0] ?? {}) as Subnet;
      const primary = typeof sub['primaryIp'] === 'string' ? sub['primaryIp'] : undefined;
      return {
        outcome: ready(RoutingReasons.Available, `${net.name} is attached to edge gateway ${e.name}${primary ? ` with address ${primary}` : ''}.`),
        fields: (s) => {
          s.id = id;
          s.edgeGatewayId = e.id ?? '';
          if (primary) s.primaryIP = primary;
        },
      };
    },
    async delete(id) {
      let e: EdgeGateway;
      try {
        e = await theEdge();
      } catch (err) {
        if (err instanceof Problem && err.reason === RoutingReasons.EdgeGatewayNotFound) return; // the edge went, and its interfaces with it
        throw err;
      }
      const { written } = await edges.modify(e.id ?? '', (cur) =>
        entryOf(cur, id) ? { ...cur, edgeGatewayUplinks: (cur.edgeGatewayUplinks ?? []).filter((u) => u.uplinkId !== id) } : undefined,
      );
      if (written) event('Detached', `Detached ${obj.spec.externalNetwork.name ?? id} from edge gateway ${e.name}.`);
    },
  };
}
