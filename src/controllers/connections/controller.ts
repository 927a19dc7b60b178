// VCDConnection and ClusterVCDConnection: Ready once a login with the Secret's credentials works;
// status shows the negotiated API version and the VCD version. A Secret change re-enqueues the
// connections that use it, and the pool logs in again with the new credentials.
import {
  ClusterVCDConnectionResource,
  EventBusReasons,
  Reasons,
  validateClusterVCDConnection,
  validateVCDConnection,
  VCDConnectionResource,
} from '../../api/index.ts';
import type { ConnectionKind, Validator, VCDConnection } from '../../api/index.ts';
import { objectKey, splitKey, type ControllerDefinition, type InformerEvents, type KubeObject } from '../../runtime/index.ts';
import { redactUrl } from '../../clients/vcd/index.ts';
import type { ControllerDeps } from '../deps.ts';
import { ConnectionFailure, connectionKey, connectionKeyOf, SecretResource, type Connection } from '../../reconcile/connections/index.ts';

// Existing importers (tests, scripts) find the core resources here too.
export { NamespaceResource, SecretResource } from '../../reconcile/connections/index.ts';

const BY_SECRET = 'bySecret';

export interface ConnectionControllerDeps extends ControllerDeps {
  operatorNamespace: string;
  /** Events of every Secret informer (the SecretStore); default the manager's Secret informer. */
  secrets?: InformerEvents<KubeObject>;
}

export function connectionController(kind: ConnectionKind, deps: ConnectionControllerDeps): ControllerDefinition<Connection> {
  const resource = kind === 'ClusterVCDConnection' ? ClusterVCDConnectionResource : VCDConnectionResource;
  const validator: Validator<Connection> = kind === 'ClusterVCDConnection' ? validateClusterVCDConnection : validateVCDConnection;
  const secretKeyOf = (c: Connection): string =>
    `${kind === 'ClusterVCDConnection' ? deps.operatorNamespace : (c.metadata?.namespace ?? '')}/${c.spec.credentialsSecretRef.name}`;

  const name = kind.toLowerCase();
  return {
    name,
    for: resource,
    // Logins wait on the network: an unreachable VCD retrying its login must not hold the others back.
    maxConcurrentReconciles: 16,
    indexers: { [BY_SECRET]: (c) => [secretKeyOf(c)] },
    // The connection's message-bus state is shown in its status; a change re-reconciles it.
    sources: [
      deps.events.busStateSource(kind.toLowerCase(), (connKey) => {
        const prefix = `${kind}/`;
        return connKey.startsWith(prefix) ? [connKey.slice(prefix.length)] : [];
      }),
    ],
    watches: [
      {
        resource: SecretResource,
        ...(deps.secrets ? { events: deps.secrets } : {}),
        keysFor: (s) => deps.manager.byIndex<Connection>(name, BY_SECRET, objectKey(s as KubeObject)).map(objectKey),
      },
    ],
    async reconcile(key, ctx) {
      const conn = ctx.informer.get(key);
      if (!conn) {
        const { namespace, name } = splitKey(key);
        deps.pool.forget(connectionKeyOf(kind, name, namespace));
        return;
      }
      if (conn.metadata?.deletionTimestamp) {
        deps.pool.forget(connectionKey(conn));
        return;
      }
      const checked = validator.validate(conn);
      const setReady = (status: 'True' | 'False', reason: string, message: string) =>
        ctx.status.patchStatus(conn, (s: NonNullable<VCDConnection['status']>) => {
          s.conditions ??= [];
          ctx.status.setCondition(s.conditions, { type: 'Ready', status, reason, message, observedGeneration: conn.metadata?.generation ?? 0 });
          ctx.status.setCondition(s.conditions, {
            type: 'Synced',
            status: status === 'True' || reason === Reasons.InvalidSpec ? 'True' : 'False',
            reason: status === 'True' ? Reasons.ReconcileSuccess : reason,
            message: status === 'True' ? 'The last reconcile succeeded.' : message,
            observedGeneration: conn.metadata?.generation ?? 0,
          });
        });
      if (!checked.valid) {
        await setReady('False', Reasons.InvalidSpec, `${checked.message}. Fix the spec; nothing is sent to VCD until then.`);
        return;
      }
      const wasReady = ctx.status.findCondition(conn.status?.conditions, 'Ready')?.status === 'True';
      try {
        const client = await deps.pool.clientFor(conn);
        await ctx.status.patchStatus(conn, (s: NonNullable<VCDConnection['status']>) => {
          s.apiVersion = client.apiVersion;
          if (client.vcdVersion) s.vcdVersion = client.vcdVersion;
          s.conditions ??= [];
          const message = `Logged in to ${redactUrl(conn.spec.url)} as org ${conn.spec.org}, API ${client.apiVersion}.`;
          ctx.status.setCondition(s.conditions, {
            type: 'Ready',
            status: 'True',
            reason: Reasons.LoggedIn,
            message,
            observedGeneration: conn.metadata?.generation ?? 0,
          });
          ctx.status.setCondition(s.conditions, {
            type: 'Synced',
            status: 'True',
            reason: Reasons.ReconcileSuccess,
            message: 'The last reconcile succeeded.',
            observedGeneration: conn.metadata?.generation ?? 0,
          });
          const bus = eventBusCondition(deps, conn);
          if (bus) ctx.status.setCondition(s.conditions, { ...bus, type: 'EventBus', observedGeneration: conn.metadata?.generation ?? 0 });
        });
        if (!wasReady) ctx.events.record(conn, { type: 'Normal', reason: Reasons.LoggedIn, message: `Logged in to VCD, API ${client.apiVersion}.` });
        return { requeueAfterMs: deps.driftCheckMs };
      } catch (err) {
        if (!(err instanceof ConnectionFailure)) throw err;
        const before = ctx.status.findCondition(conn.status?.conditions, 'Ready')?.reason;
        await setReady('False', err.reason, err.message);
        if (err.reason === Reasons.SecretAccessNotGranted) {
          // Nothing to retry until the namespace's owner grants access: the Secret informer keeps
          // trying on its own backoff, and its first list after the grant re-enqueues this key.
          if (before !== err.reason) ctx.events.record(conn, { type: 'Warning', reason: err.reason, message: err.message });
          return { requeueAfterMs: deps.driftCheckMs };
        }
        ctx.events.record(conn, { type: 'Warning', reason: err.reason, message: err.message });
        // Retried with the queue's backoff; a Secret change re-enqueues at once.
        throw err;
      }
    },
  };
}

/** The EventBus condition of a logged-in connection; undefined when events are off. */
function eventBusCondition(deps: ControllerDeps, conn: Connection): { status: 'True' | 'False' | 'Unknown'; reason: string; message: string } | undefined {
  if (!deps.eventBus.enabled) return undefined;
  const s = deps.eventBus.status(connectionKey(conn));
  const resync = `${Math.round(deps.driftCheckMs / 60_000)} min`;
  if (!s) return { status: 'Unknown', reason: EventBusReasons.Connecting, message: 'Subscribing to the VCD message bus.' };
  if (s.connected)
    return {
      status: 'True',
      reason: EventBusReasons.Connected,
      message: `Subscribed to VCD events since ${new Date(s.since).toISOString()}; drift is repaired as events arrive.`,
    };
  return {
    status: 'False',
    reason: EventBusReasons.Unreachable,
    message: `The VCD message bus (${conn.spec.url}/messaging/mqtt) is unreachable since ${new Date(s.since).toISOString()}: ${s.error ?? 'unknown error'}. Drift is repaired at the periodic resync (every ${resync}) until it returns.`,
  };
}
