// The create-pending guard (crossplane's external-create-pending): before the non-idempotent POST
// the time is written into an annotation; while it is younger than the pending window, an IP Space
// that cannot be found yet may still appear (its create task is running), so no second create goes out.

export type PendingDecision = { create: true } | { create: false; since: number; waitMs: number };

/**
 * Whether a create may be sent now, given the annotation's value (an RFC 3339 time or absent).
 * When not, `waitMs` says how long until the window closes.
 */
export function pendingDecision(annotation: string | undefined, now: number, windowMs: number): PendingDecision {
  const since = Date.parse(annotation ?? '');
  if (!Number.isFinite(since)) return { create: true };
  const waited = now - since;
  if (waited >= windowMs) return { create: true };
  // A time in the future (clock skew between replicas) counts as just now.
  return { create: false, since, waitMs: windowMs - Math.max(0, waited) };
}
