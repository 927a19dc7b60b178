// NSXConnection: Ready once a login with the Secret's credentials works. A Secret change
// re-enqueues the connections that use it, and the pool logs in again with the new credentials.
import { NSXConnectionResource, Reasons, validateNSXConnection, type NSXConnection } from '../../api/index.ts';
import { objectKey, splitKey, type ControllerDefinition, type InformerEvents, type KubeObject } from '../../runtime/index.ts';
import { ConnectionFailure, SecretResource, type NsxConnectionPool } from '../../reconcile/connections/index.ts';
import type { ControllerDeps } from '../deps.ts';

const BY_SECRET = 'bySecret';

export function nsxConnectionController(
  deps: ControllerDeps & { operatorNamespace: string; nsxPool: NsxConnectionPool; secrets?: InformerEvents<KubeObject> },
): ControllerDefinition<NSXConnection> {
  const secretKeyOf = (c: NSXConnection): string => `${deps.operatorNamespace}/${c.spec.credentialsSecretRef.name}`;
  return {
    name: 'nsxconnection',
    for: NSXConnectionResource,
    maxConcurrentReconciles: 2,
    indexers: { [BY_SECRET]: (c) => [secretKeyOf(c)] },
    watches: [
      {
        resource: SecretResource,
        ...(deps.secrets ? { events: deps.secrets } : {}),
        keysFor: (s) => deps.manager.byIndex<NSXConnection>('nsxconnection', BY_SECRET, objectKey(s as KubeObject)).map(objectKey),
      },
    ],
    async reconcile(key, ctx) {
      const conn = ctx.informer.get(key);
      if (!conn || conn.metadata?.deletionTimestamp) {
        deps.nsxPool.forget(conn?.metadata?.name ?? splitKey(key).name);
        return;
      }
      const generation = conn.metadata?.generation ?? 0;
      const setReady = (status: 'True' | 'False', reason: string, message: string) =>
        ctx.status.patchStatus(conn, (s: NonNullable<NSXConnection['status']>) => {
          s.conditions ??= [];
          ctx.status.setCondition(s.conditions, { type: 'Ready', status, reason, message, observedGeneration: generation });
          const synced = status === 'True' || reason === Reasons.InvalidSpec;
          ctx.status.setCondition(s.conditions, {
            type: 'Synced',
            status: synced ? 'True' : 'False',
            reason: status === 'True' ? Reasons.ReconcileSuccess : reason,
            message: status === 'True' ? 'The last reconcile succeeded.' : message,
            observedGeneration: generation,
          });
        });
      const checked = validateNSXConnection.validate(conn);
      if (!checked.valid) {
        await setReady('False', Reasons.InvalidSpec, `${checked.message}. Fix the spec; nothing is sent to NSX until then.`);
        return;
      }
      const wasReady = ctx.status.findCondition(conn.status?.conditions, 'Ready')?.status === 'True';
      try {
        await deps.nsxPool.clientFor(conn);
        await setReady('True', Reasons.LoggedIn, `Logged in to NSX Manager ${conn.spec.url}.`);
        if (!wasReady) ctx.events.record(conn, { type: 'Normal', reason: Reasons.LoggedIn, message: 'Logged in to NSX Manager.' });
        return { requeueAfterMs: deps.driftCheckMs };
      } catch (err) {
        if (!(err instanceof ConnectionFailure)) throw err;
        await setReady('False', err.reason, err.message);
        ctx.events.record(conn, { type: 'Warning', reason: err.reason, message: err.message });
        // Retried with the queue's backoff; a Secret change re-enqueues at once.
        throw err;
      }
    },
  };
}
