// IPSpace: keeps a VCD IP Space, its uplinks and per-org quotas as the spec says, on the managed
// engine (src/reconcile/managed.ts), which owns the finalizer, the create-pending guard, deletion
// policy and conditions. This adapter answers: which client (provider rights, API version), where
// the IP Space is (by id, or by name plus our marker), how to create it, sync it and delete it.
import { atLeast, FEATURES, type IpSpace, type VcdClient } from '../../clients/vcd/index.ts';
import { IPSpaceResource, validateIPSpace } from '../../api/index.ts';
import type { IPSpace, IPSpaceStatus } from '../../api/index.ts';
import { objectKey, type ControllerDefinition, type ReconcileContext } from '../../runtime/index.ts';
import { managedController, Problem, ready, SYNCED, type ManagedExternal, type Report } from '../../reconcile/index.ts';
import { engineOptions, type ControllerDeps } from '../deps.ts';
import { BY_CONNECTION, connectionWatches } from '../../reconcile/connections/index.ts';
import { clientDirectory, type CloudDirectory } from './directory.ts';
import { ExternalIPSpace } from './external.ts';
import { IPSpaceReasons } from './problems.ts';

export const IPSPACE_FINALIZER = 'vcd-operator.io/ipspace';
export { CREATE_PENDING_ANNOTATION } from '../../reconcile/index.ts';

/** defaultGatewayServiceConfig needs VCD 10.5. */
const GATEWAY_SERVICE_DEFAULTS_API = '38.0';
const BY_CLOUD_ID = 'byCloudId';

export interface IPSpaceControllerOptions {
  /** Resolves org and provider-gateway names; the default goes through the shared directory cache. */
  directory?: CloudDirectory;
  /** How soon to look again while waiting on VCD or on something outside this object (default 30 s). */
  retryMs?: number;
}

type Status = NonNullable<IPSpaceStatus>;

export function ipSpaceController(deps: ControllerDeps, opts: IPSpaceControllerOptions = {}): ControllerDefinition<IPSpace> {
  const directory = opts.directory ?? clientDirectory(deps.directory);
  const engine = engineOptions(deps, opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {});

  const byConnection = connectionWatches<IPSpace>(deps.manager, 'ipspace', (o) => o.spec.connectionRef);

  const byIndex = (index: string, value: string): string[] => deps.manager.byIndex<IPSpace>('ipspace', index, value).map(objectKey);

  return managedController<IPSpace, VcdClient, Status>(
    {
      name: 'ipspace',
      resource: IPSpaceResource,
      finalizer: IPSPACE_FINALIZER,
      maxConcurrentReconciles: 4,
      indexers: {
        ...byConnection.indexers,
        [BY_CLOUD_ID]: (o) => [...new Set([o.spec.id, o.status?.id].filter((id): id is string => !!id))],
      },
      sources: [
        deps.events.source('ipspace', {
          entityTypes: ['ipSpace'],
          keys: (e) => byIndex(BY_CLOUD_ID, e.event.entity),
          keysOfConnection: (conn) => byIndex(BY_CONNECTION, conn),
        }),
      ],
      watches: byConnection.watches,
      validate: (obj) => validateIPSpace.problem(obj),
      async connect(obj) {
        // A Private IP Space acts for its org; the others act at provider level (the connection's own org).
        const org = obj.spec.type === 'Private' ? obj.spec.org : undefined;
        const res = await deps.pool.resolve(obj.spec.connectionRef, obj.metadata?.namespace ?? '', org ? { org } : {});
        if (!res.ok) throw new Problem(res.reason, res.message, { transient: false });
        const gate = versionProblem(obj, res.client.apiVersion, res.client.isProvider);
        if (gate) throw gate;
        return res.client;
      },
      external: (obj, client, ctx) => ipSpaceExternal(obj, client, ctx, deps, directory, engine.retryMs),
      knownId: (obj) => obj.spec.id ?? obj.status?.id,
      deletionPolicy: (obj) => obj.spec.deletionPolicy ?? 'Delete',
      describe: (obj) => `IP Space ${obj.spec.name ?? obj.metadata?.name ?? ''}`,
      deleteBlockedHint: 'Release what is allocated from it (delete the claims that use it).',
    },
    engine,
  );
}

function ipSpaceExternal(
  obj: IPSpace,
  client: VcdClient,
  ctx: ReconcileContext<IPSpace>,
  deps: ControllerDeps,
  directory: CloudDirectory,
  retryMs: number,
): ManagedExternal<Status> {
  const ext = new ExternalIPSpace({ client, directory, obj, clusterId: deps.clusterId, onWrite: (w) => ctx.events.record(obj, { type: 'Normal', ...w }) });
  let current: IpSpace | undefined;
  return {
    async observe(knownId) {
      if (knownId) {
        current = await ext.get(knownId);
        if (current) return { id: knownId };
        if (obj.spec.id) {
          throw new Problem(
            IPSpaceReasons.IPSpaceNotFound,
            `VCD has no IP Space ${obj.spec.id} (spec.id). Check the id, or remove spec.id to have the operator create the IP Space.`,
            { requeueAfterMs: deps.driftCheckMs },
          );
        }
        ctx.events.record(obj, { type: 'Warning', reason: 'Vanished', message: `IP Space ${knownId} is no longer in VCD; creating it again.` });
      }
      const found = await ext.find();
      if (found.kind === 'foreign') {
        throw new Problem(
          IPSpaceReasons.AlreadyExists,
          `VCD already has an IP Space named ${ext.name} (${found.space.id ?? '?'}) that this IPSpace did not create. ` +
            `To manage that IP Space, set spec.id: ${found.space.id ?? '<its id>'}; otherwise choose another spec.name.`,
          { requeueAfterMs: deps.driftCheckMs },
        );
      }
      if (found.kind === 'none') return undefined;
      current = found.space;
      if (!knownId)
        ctx.events.record(obj, { type: 'Normal', reason: 'Found', message: `Found IP Space ${current.id ?? '?'} created earlier by this IPSpace.` });
      return { id: current.id ?? '' };
    },
    async create() {
      current = await ext.create();
      return current.id ?? '';
    },
    async sync(id): Promise<Report<Status>> {
      const seen = current ?? (await ext.get(id));
      if (!seen)
        throw new Problem(IPSpaceReasons.ReconcileError, `IP Space ${id} vanished from VCD while it was being reconciled; looking again.`, { transient: true });
      const space = (current = await ext.update(seen));
      const { uplinks, unresolved } = await ext.syncUplinks(id, obj.status?.uplinks ?? []);
      const { waiting } = await ext.syncQuotas(id);
      const fields = (s: Status): void => {
        s.id = id;
        if (space.status) s.realizationStatus = space.status;
        const utilization = utilizationOf(space);
        if (utilization) s.utilization = utilization;
        if (uplinks.length) s.uplinks = uplinks;
        else delete s.uplinks;
      };
      if (unresolved.length) {
        const message =
          `Cannot find provider gateway ${unresolved.join(', ')} through this connection, so edge gateways cannot use this IP Space yet. ` +
          'Reference it by id (providerGateway.id: urn:vcloud:network:<uuid>); provider gateways are found by name only once an edge gateway uses them.';
        const v = { status: 'False' as const, reason: IPSpaceReasons.ProviderGatewayNotFound, message };
        return { outcome: { ready: v, synced: v }, fields, requeueAfterMs: retryMs };
      }
      if (space.status === 'REALIZATION_FAILED') {
        const message = `VCD could not realize IP Space ${id}; check its tasks in VCD.`;
        return { outcome: { ready: { status: 'False', reason: IPSpaceReasons.RealizationFailed, message }, synced: SYNCED }, fields, requeueAfterMs: retryMs };
      }
      const outcome = ready(IPSpaceReasons.Available, `IP Space ${ext.name} (${id}) is in VCD as specified.`);
      if (waiting.length) {
        const message =
          `Custom quotas for org ${waiting.join(', ')} wait for VCD to assign this IP Space to the org, which it does once the org has an edge gateway ` +
          'on a provider gateway this IP Space is uplinked to. Checking again.';
        return { outcome: { ...outcome, synced: { status: 'False', reason: IPSpaceReasons.OrgAssignmentPending, message } }, fields, requeueAfterMs: retryMs };
      }
      return { outcome, fields };
    },
    async delete(id) {
      await ext.delete(id);
    },
  };
}

function utilizationOf(space: IpSpace): Status['utilization'] {
  const u = space.utilization;
  const counts = (c: { totalCount?: string; allocatedCount?: string; usedCount?: string } | undefined) =>
    c
      ? {
          ...(c.totalCount !== undefined ? { total: c.totalCount } : {}),
          ...(c.allocatedCount !== undefined ? { allocated: c.allocatedCount } : {}),
          ...(c.usedCount !== undefined ? { used: c.usedCount } : {}),
        }
      : undefined;
  const floating = counts(u?.floatingIPs);
  const prefixes = counts(u?.ipPrefixes);
  return floating || prefixes ? { ...(floating ? { floatingIPs: floating } : {}), ...(prefixes ? { prefixes } : {}) } : undefined;
}

/** Why this connection cannot manage this IP Space at all, if it cannot. */
function versionProblem(obj: IPSpace, apiVersion: string, isProvider: boolean): Problem | undefined {
  if (!isProvider) {
    return new Problem(
      IPSpaceReasons.ProviderRequired,
      'IP Spaces are created and changed with provider rights: point spec.connectionRef at a connection to org System (a ClusterVCDConnection).',
    );
  }
  const need = FEATURES.ipSpaces.version;
  if (!atLeast(apiVersion, need)) {
    return new Problem(IPSpaceReasons.UnsupportedAPIVersion, `IP Spaces need VCD API ${need} (VCD 10.4.1) or newer; this connection uses API ${apiVersion}.`);
  }
  if (obj.spec.gatewayServiceDefaults) {
    // The VCD client speaks API 37.2 at most, so no connection can send them today.
    return new Problem(
      IPSpaceReasons.UnsupportedAPIVersion,
      `gatewayServiceDefaults need VCD API ${GATEWAY_SERVICE_DEFAULTS_API} (VCD 10.5) or newer; this connection uses API ${apiVersion}` +
        `${atLeast(apiVersion, GATEWAY_SERVICE_DEFAULTS_API) ? ', and this operator does not send them yet' : ''}. Remove gatewayServiceDefaults to manage the rest of the IP Space.`,
    );
  }
  return undefined;
}
