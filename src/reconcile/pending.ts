// The create-pending guard (crossplane's external-create-pending): before a write that cannot be
// repeated safely (a create, an allocate), the object records the time in an annotation. A later
// reconcile that finds the annotation but not the cloud object knows a write may be in flight, and
// resolves it through ownership markers (or the cloud's task records) before writing again.
import type { KubeClient, KubeObject, ResourceType } from '../runtime/index.ts';

export const CREATE_PENDING_ANNOTATION = 'vcd-operator.io/create-pending';

/** When the guard was set, or undefined when it is not (or unreadable). */
export function pendingSince(obj: KubeObject): number | undefined {
  const v = Date.parse(obj.metadata?.annotations?.[CREATE_PENDING_ANNOTATION] ?? '');
  return Number.isFinite(v) ? v : undefined;
}

export type PendingDecision = { write: true } | { write: false; since: number; waitMs: number };

/** Whether a guarded write may be sent now, or must wait for an earlier one's outcome. */
export function pendingDecision(since: number | undefined, now: number, windowMs: number): PendingDecision {
  if (since === undefined) return { write: true };
  const waited = now - since;
  if (waited >= windowMs) return { write: true };
  // A time in the future (clock skew between replicas) counts as just now.
  return { write: false, since, waitMs: windowMs - Math.max(0, waited) };
}

/**
 * Sets (a time) or clears (null) the guard, optionally adding a finalizer in the same write.
 * With `guardVersion` the write carries the object's resourceVersion, so a stale copy gets a 409
 * instead of dropping another writer's finalizer.
 */
export async function writePending<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceType,
  obj: T,
  at: number | null,
  opts: { finalizer?: string; guardVersion?: boolean } = {},
): Promise<T> {
  const meta = obj.metadata ?? {};
  const value = at === null ? null : new Date(at).toISOString();
  const finalizers = meta.finalizers ?? [];
  const addFinalizer = opts.finalizer !== undefined && !finalizers.includes(opts.finalizer);
  if ((meta.annotations?.[CREATE_PENDING_ANNOTATION] ?? null) === value && !addFinalizer) return obj;
  // Setting the guard comes before a cloud create, which waits for it; clearing it waits for nothing.
  return client.patch<T>(
    resource,
    meta.name ?? '',
    meta.namespace,
    {
      metadata: {
        ...(opts.guardVersion || addFinalizer ? { resourceVersion: meta.resourceVersion } : {}),
        ...(addFinalizer ? { finalizers: [...finalizers, opts.finalizer] } : {}),
        annotations: { [CREATE_PENDING_ANNOTATION]: value },
      },
    },
    at === null ? {} : { priority: 'urgent' },
  );
}
