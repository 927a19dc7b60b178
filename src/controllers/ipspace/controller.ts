// IPSpace: keeps a VCD IP Space, its uplinks and per-org quotas as the spec says. Observe, then
// create / update / delete (crossplane's shape), then one status patch. A create is guarded: the
// create-pending annotation is written before the POST, and the IP Space is found again by name
// plus the ownership marker in its description, so a crash or a lost response never makes two.
import { atLeast, FEATURES, type IpSpace, type VcdClient } from '../../clients/vcd/index.ts';
import { ClusterVCDConnectionResource, IPSpaceResource, validateIPSpace, VCDConnectionResource } from '../../api/index.ts';
import type { ConnectionRef, IPSpace, IPSpaceStatus } from '../../api/index.ts';
import { objectKey, type ControllerDefinition, type KubeObject, type ReconcileContext, type ReconcileResult } from '../../runtime/index.ts';
import type { ControllerDeps } from '../deps.ts';
import { connectionKeyOf } from '../connections/pool.ts';
import { clientDirectory, type CloudDirectory } from './directory.ts';
import { ExternalIPSpace } from './external.ts';
import { pendingDecision } from './pending.ts';
import { certainlyNotCreated, IPSpaceProblem, IPSpaceReasons, problemOf } from './problems.ts';

export const IPSPACE_FINALIZER = 'vcd-operator.io/ipspace';
/** RFC 3339 time of a create whose outcome is not known yet; see the file comment. */
export const CREATE_PENDING_ANNOTATION = 'vcd-operator.io/create-pending';

/** defaultGatewayServiceConfig needs VCD 10.5. */
const GATEWAY_SERVICE_DEFAULTS_API = '38.0';
const BY_CONNECTION = 'byConnection';
/** How often to look for a create whose outcome is not known yet. */
const POLL_PENDING_MS = 1000;

export interface IPSpaceControllerOptions {
  /** Resolves org and provider-gateway names; the default learns them from what VCD lists. */
  directory?: CloudDirectory;
  /** How soon to look again while waiting on VCD or on something outside this object (default 30 s). */
  retryMs?: number;
  now?: () => number;
}

type Status = NonNullable<IPSpaceStatus>;
type ConditionStatus = 'True' | 'False';

/** What one reconcile concluded; written as one status patch at the end. */
interface Outcome {
  ready: { status: ConditionStatus; reason: string; message: string } | 'unchanged';
  synced: { status: ConditionStatus; reason: string; message: string };
  fields?: (s: Status) => void;
}

function connectionIndexKey(ref: ConnectionRef, namespace: string): string {
  return connectionKeyOf(ref.kind, ref.name, namespace);
}

export function ipSpaceController(deps: ControllerDeps, opts: IPSpaceControllerOptions = {}): ControllerDefinition<IPSpace> {
  const directory = opts.directory ?? clientDirectory();
  const retryMs = opts.retryMs ?? 30_000;
  const now = opts.now ?? Date.now;

  const ipSpacesUsing = (kind: ConnectionRef['kind']) => (conn: unknown): string[] => {
    const meta = (conn as KubeObject).metadata ?? {};
    return deps.manager.informer<IPSpace>(IPSpaceResource).byIndex(BY_CONNECTION, connectionKeyOf(kind, meta.name ?? '', meta.namespace)).map(objectKey);
  };

  async function writeStatus(ctx: ReconcileContext<IPSpace>, obj: IPSpace, o: Outcome): Promise<void> {
    const generation = obj.metadata?.generation ?? 0;
    await ctx.status.patchStatus(obj, (s: Status) => {
      o.fields?.(s);
      s.conditions ??= [];
      if (o.ready !== 'unchanged') ctx.status.setCondition(s.conditions, { type: 'Ready', ...o.ready, observedGeneration: generation });
      ctx.status.setCondition(s.conditions, { type: 'Synced', ...o.synced, observedGeneration: generation });
    });
  }

  const synced = { status: 'True', reason: IPSpaceReasons.ReconcileSuccess, message: 'The last reconcile succeeded.' } as const;

  /** A failure: Synced=False; Ready=False too unless the IP Space is already known to be usable. */
  function failure(obj: IPSpace, p: IPSpaceProblem, forceNotReady = false): Outcome {
    const wasReady = obj.status?.id !== undefined && obj.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return {
      ready: wasReady && !forceNotReady ? 'unchanged' : { status: 'False', reason: p.reason, message: p.message },
      synced: { status: 'False', reason: p.reason, message: p.message },
    };
  }

  async function setPending(ctx: ReconcileContext<IPSpace>, obj: IPSpace, value: string | null): Promise<IPSpace> {
    const m = obj.metadata ?? {};
    if ((m.annotations?.[CREATE_PENDING_ANNOTATION] ?? null) === value) return obj;
    return ctx.client.patch<IPSpace>(IPSpaceResource, m.name ?? '', m.namespace, { metadata: { annotations: { [CREATE_PENDING_ANNOTATION]: value } } });
  }

  /** Observe → create or update → uplinks → quotas. Throws IPSpaceProblem (or client errors). */
  async function sync(ctx: ReconcileContext<IPSpace>, held: { obj: IPSpace }, ext: ExternalIPSpace): Promise<Outcome & { requeueAfterMs: number }> {
    const obj = held.obj;
    let current: IpSpace | undefined;
    const adoptId = obj.spec.id;
    const knownId = adoptId ?? obj.status?.id;
    if (knownId) {
      current = await ext.get(knownId);
      if (!current && adoptId) {
        throw new IPSpaceProblem(
          IPSpaceReasons.IPSpaceNotFound,
          `VCD has no IP Space ${adoptId} (spec.id). Check the id, or remove spec.id to have the operator create the IP Space.`,
          { requeueAfterMs: deps.driftCheckMs },
        );
      }
      if (!current) {
        await ctx.events.record(obj, { type: 'Warning', reason: 'Vanished', message: `IP Space ${knownId} is no longer in VCD; creating it again.` });
      }
    }
    if (!current) {
      const found = await ext.find();
      if (found.kind === 'foreign') {
        throw new IPSpaceProblem(
          IPSpaceReasons.AlreadyExists,
          `VCD already has an IP Space named ${ext.name} (${found.space.id ?? '?'}) that this IPSpace did not create. ` +
            `To manage that IP Space, set spec.id: ${found.space.id ?? '<its id>'}; otherwise choose another spec.name.`,
          { requeueAfterMs: deps.driftCheckMs },
        );
      }
      if (found.kind === 'ours') {
        current = found.space;
        await ctx.events.record(obj, { type: 'Normal', reason: 'Found', message: `Found IP Space ${current.id ?? '?'} created earlier by this IPSpace.` });
      }
    }
    if (!current) {
      const pending = pendingDecision(obj.metadata?.annotations?.[CREATE_PENDING_ANNOTATION], now(), deps.pendingWindowMs);
      if (!pending.create) {
        // An earlier create may still land; creating again now could make a second IP Space.
        return {
          ready: { status: 'False', reason: IPSpaceReasons.Creating, message: `Waiting for the create sent at ${new Date(pending.since).toISOString()} to show up in VCD before trying again.` },
          synced: { status: 'False', reason: IPSpaceReasons.Creating, message: 'The outcome of the last create is not known yet.' },
          requeueAfterMs: Math.min(pending.waitMs, POLL_PENDING_MS),
        };
      }
      held.obj = await setPending(ctx, obj, new Date(now()).toISOString());
      try {
        current = await ext.create();
      } catch (err) {
        if (certainlyNotCreated(err)) held.obj = await setPending(ctx, held.obj, null);
        throw err;
      }
    }
    // The id is known now; from here on the marker finds the IP Space even if the status write is lost.
    held.obj = await setPending(ctx, held.obj, null);
    const id = current.id ?? '';
    current = await ext.update(current);
    const { uplinks, unresolved } = await ext.syncUplinks(id, obj.status?.uplinks ?? []);
    const { waiting } = await ext.syncQuotas(id);

    const fields = (s: Status): void => {
      s.id = id;
      if (current.status) s.realizationStatus = current.status;
      const u = current.utilization;
      const counts = (c: { totalCount?: string; allocatedCount?: string; usedCount?: string } | undefined) =>
        c ? { ...(c.totalCount !== undefined ? { total: c.totalCount } : {}), ...(c.allocatedCount !== undefined ? { allocated: c.allocatedCount } : {}), ...(c.usedCount !== undefined ? { used: c.usedCount } : {}) } : undefined;
      const floating = counts(u?.floatingIPs);
      const prefixes = counts(u?.ipPrefixes);
      if (floating || prefixes) s.utilization = { ...(floating ? { floatingIPs: floating } : {}), ...(prefixes ? { prefixes } : {}) };
      if (uplinks.length) s.uplinks = uplinks;
      else delete s.uplinks;
    };
    if (unresolved.length) {
      const p = new IPSpaceProblem(
        IPSpaceReasons.ProviderGatewayNotFound,
        `Cannot find provider gateway ${unresolved.join(', ')} through this connection, so edge gateways cannot use this IP Space yet. ` +
          'Reference it by id (providerGateway.id: urn:vcloud:network:<uuid>); provider gateways are found by name only once an edge gateway uses them.',
      );
      return { ...failure(obj, p, true), fields, requeueAfterMs: retryMs };
    }
    if (current.status === 'REALIZATION_FAILED') {
      const message = `VCD could not realize IP Space ${id}; check its tasks in VCD.`;
      return { ready: { status: 'False', reason: IPSpaceReasons.RealizationFailed, message }, synced, fields, requeueAfterMs: retryMs };
    }
    const ready = { status: 'True' as const, reason: IPSpaceReasons.Available, message: `IP Space ${ext.name} (${id}) is in VCD as specified.` };
    if (waiting.length) {
      const message =
        `Custom quotas for org ${waiting.join(', ')} wait for VCD to assign this IP Space to the org, which it does once the org has an edge gateway ` +
        'on a provider gateway this IP Space is uplinked to. Checking again.';
      return { ready, synced: { status: 'False', reason: IPSpaceReasons.OrgAssignmentPending, message }, fields, requeueAfterMs: retryMs };
    }
    return { ready, synced, fields, requeueAfterMs: deps.driftCheckMs };
  }

  async function finalize(ctx: ReconcileContext<IPSpace>, obj: IPSpace): Promise<ReconcileResult | void> {
    if (!ctx.finalizers.has(obj, IPSPACE_FINALIZER)) return;
    const id = obj.status?.id ?? obj.spec.id;
    if ((obj.spec.deletionPolicy ?? 'Delete') === 'Orphan') {
      await ctx.finalizers.remove(obj, IPSPACE_FINALIZER);
      const what = id ?? obj.spec.name ?? obj.metadata?.name ?? '';
      await ctx.events.record(obj, { type: 'Normal', reason: 'Orphaned', message: `Left IP Space ${what} in VCD (deletionPolicy: Orphan).` });
      return;
    }
    const namespace = obj.metadata?.namespace ?? '';
    const res = await deps.pool.resolve(obj.spec.connectionRef, namespace);
    if (!res.ok) {
      const message = `Cannot delete the IP Space from VCD: ${res.message} The finalizer stays until it can, or set deletionPolicy: Orphan.`;
      await writeStatus(ctx, obj, failure(obj, new IPSpaceProblem(res.reason, message), true));
      await ctx.events.record(obj, { type: 'Warning', reason: res.reason, message });
      return { requeueAfterMs: retryMs };
    }
    const e = makeExt(obj, res.client, ctx);
    try {
      let target = id;
      if (!target) {
        const found = await e.find();
        if (found.kind === 'ours') target = found.space.id;
        const pending = pendingDecision(obj.metadata?.annotations?.[CREATE_PENDING_ANNOTATION], now(), deps.pendingWindowMs);
        if (!target && !pending.create) {
          const message = 'Waiting for the outcome of an earlier create before deleting.';
          await writeStatus(ctx, obj, { ready: { status: 'False', reason: IPSpaceReasons.Deleting, message }, synced: { status: 'False', reason: IPSpaceReasons.Deleting, message } });
          return { requeueAfterMs: Math.min(pending.waitMs, POLL_PENDING_MS) };
        }
      }
      if (target) await e.delete(target);
      await ctx.finalizers.remove(obj, IPSPACE_FINALIZER);
    } catch (err) {
      const p = problemOf(err, `delete IP Space ${id ?? e.name}`);
      if (!p) throw err;
      // VCD refuses with a 4xx while allocations remain: wait for them to be released.
      const blocked = p.reason === IPSpaceReasons.ReconcileError && !p.transient;
      const shown = blocked
        ? new IPSpaceProblem(
            IPSpaceReasons.DeleteBlocked,
            `VCD refuses to delete IP Space ${id ?? e.name}: ${(p.cause as Error).message}. Release what is allocated from it (delete the claims that use it), ` +
              'or set deletionPolicy: Orphan to keep it in VCD. The finalizer stays until then.',
          )
        : p;
      await writeStatus(ctx, obj, failure(obj, shown, true));
      await ctx.events.record(obj, { type: 'Warning', reason: shown.reason, message: shown.message });
      if (p.transient) throw err;
      return { requeueAfterMs: retryMs };
    }
  }

  function makeExt(obj: IPSpace, client: VcdClient, ctx: ReconcileContext<IPSpace>): ExternalIPSpace {
    return new ExternalIPSpace({ client, directory, obj, clusterId: deps.clusterId, onWrite: (w) => ctx.events.record(obj, { type: 'Normal', ...w }) });
  }

  return {
    name: 'ipspace',
    for: IPSpaceResource,
    maxConcurrentReconciles: 4,
    indexers: { [BY_CONNECTION]: (o) => [connectionIndexKey(o.spec.connectionRef, o.metadata?.namespace ?? '')] },
    watches: [
      { resource: ClusterVCDConnectionResource, keysFor: ipSpacesUsing('ClusterVCDConnection') },
      { resource: VCDConnectionResource, keysFor: ipSpacesUsing('VCDConnection') },
    ],
    async reconcile(key, ctx) {
      const cached = ctx.informer.get(key);
      if (!cached || !deps.namespaceInScope(cached.metadata?.namespace ?? '')) return;
      if (cached.metadata?.deletionTimestamp) return finalize(ctx, cached);

      const checked = validateIPSpace.validate(cached);
      if (!checked.valid) {
        const message = `${checked.message}. Fix the spec; nothing is sent to VCD until then.`;
        await writeStatus(ctx, cached, {
          ready: { status: 'False', reason: IPSpaceReasons.InvalidSpec, message },
          synced: { status: 'True', reason: IPSpaceReasons.InvalidSpec, message },
        });
        await ctx.events.record(cached, { type: 'Warning', reason: IPSpaceReasons.InvalidSpec, message });
        return;
      }
      const obj = await ctx.finalizers.ensure(cached, IPSPACE_FINALIZER);
      const res = await deps.pool.resolve(obj.spec.connectionRef, obj.metadata?.namespace ?? '');
      if (!res.ok) {
        await writeStatus(ctx, obj, failure(obj, new IPSpaceProblem(res.reason, res.message)));
        await ctx.events.record(obj, { type: 'Warning', reason: res.reason, message: res.message });
        return { requeueAfterMs: retryMs };
      }
      const client = res.client;
      const gate = versionProblem(obj, client.apiVersion, client.isProvider);
      if (gate) {
        await writeStatus(ctx, obj, failure(obj, gate, true));
        await ctx.events.record(obj, { type: 'Warning', reason: gate.reason, message: gate.message });
        return;
      }

      const e = makeExt(obj, client, ctx);
      const held = { obj };
      let outcome: Outcome & { requeueAfterMs?: number };
      let rethrow: IPSpaceProblem | undefined;
      try {
        outcome = await sync(ctx, held, e);
      } catch (err) {
        const p = problemOf(err, `reconcile IP Space ${e.name}`);
        if (!p) throw err;
        outcome = { ...failure(obj, p), ...(p.requeueAfterMs !== undefined ? { requeueAfterMs: p.requeueAfterMs } : {}) };
        await ctx.events.record(obj, { type: 'Warning', reason: p.reason, message: p.message });
        // Transient failures go back to the queue's backoff; the rest wait for a change or a timer.
        if (p.transient) rethrow = p;
        else outcome.requeueAfterMs ??= retryMs;
      }
      await writeStatus(ctx, held.obj, outcome);
      if (rethrow) throw rethrow;
      return { requeueAfterMs: outcome.requeueAfterMs ?? deps.driftCheckMs };
    },
  };
}

/** Why this connection cannot manage this IP Space at all, if it cannot. */
function versionProblem(obj: IPSpace, apiVersion: string, isProvider: boolean): IPSpaceProblem | undefined {
  if (!isProvider) {
    return new IPSpaceProblem(
      IPSpaceReasons.ProviderRequired,
      'IP Spaces are created and changed with provider rights: point spec.connectionRef at a connection to org System (a ClusterVCDConnection).',
    );
  }
  const need = FEATURES.ipSpaces.version;
  if (!atLeast(apiVersion, need)) {
    return new IPSpaceProblem(IPSpaceReasons.UnsupportedAPIVersion, `IP Spaces need VCD API ${need} (VCD 10.4.1) or newer; this connection uses API ${apiVersion}.`);
  }
  if (obj.spec.gatewayServiceDefaults) {
    // The VCD client speaks API 37.2 at most, so no connection can send them today.
    return new IPSpaceProblem(
      IPSpaceReasons.UnsupportedAPIVersion,
      `gatewayServiceDefaults need VCD API ${GATEWAY_SERVICE_DEFAULTS_API} (VCD 10.5) or newer; this connection uses API ${apiVersion}` +
        `${atLeast(apiVersion, GATEWAY_SERVICE_DEFAULTS_API) ? ', and this operator does not send them yet' : ''}. Remove gatewayServiceDefaults to manage the rest of the IP Space.`,
    );
  }
  return undefined;
}
