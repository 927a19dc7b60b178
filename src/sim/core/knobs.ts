// Runtime-tunable behaviour of one simulator. Every service reads these on each request, so a test
// or the admin API can change them while the simulator runs.

export interface SimKnobs {
  /** Added before every request is handled (not for admin routes). */
  latencyMs: number;
  /** How long a VCD task takes from queued to its end state. */
  taskDurationMs: number;
  /** One mutating operation per edge gateway at a time; others get 400 BUSY_ENTITY. */
  serializeEdges: boolean;
  /** One write per IP Space at a time (IP Space update, allocate); others get 400 BUSY_ENTITY. */
  serializeIpSpaces: boolean;
  /**
   * Whether updating or releasing one allocation also holds its IP Space (so it conflicts with
   * allocate). Real VCD's behaviour is not documented; by default an allocation write holds only
   * the allocation.
   */
  allocationWritesLockIpSpace: boolean;
  /** Whether a provider (System org) allocating for a tenant ignores the tenant's quota. */
  providerBypassesQuota: boolean;
  /** Whether DELETE of a USED / USED_MANUAL allocation is rejected (clients must PUT UNUSED first). */
  rejectDeleteOfUsedAllocation: boolean;
  /**
   * Whether static routes carry the spec's `version: {version: n}` and updates must send it. Off by
   * default: govcd, tested upstream against real VCD, decodes `version` as a string and sends none.
   */
  staticRouteVersionObjects: boolean;
  /**
   * How long the `ipSpaceUplinkRouteAdvertisementSync` task VCD starts after an IP Space uplink is
   * created, changed or deleted, or an uplinked IP Space is updated, takes beyond the write's own
   * task (0: no such task).
   */
  routeAdvertisementSyncMs: number;
  /**
   * Whether, while that sync task runs, writes to its IP Space get 400 BUSY_ENTITY (operation
   * IP_SPACE_UPLINK_ROUTE_ADVERTISEMENT_SYNC). govcd and terraform-provider-vcd wait for the task
   * because VCD "might" refuse; how often real VCD does is not known, so it is off by default.
   */
  routeAdvertisementSyncBusy: boolean;
  /**
   * Whether a new IP Space uplink assigns the IP Space to every org that already has an edge
   * gateway on that provider gateway (VCD assigns orgs implicitly when their edge is created; for
   * edges that existed before the uplink the behaviour is not documented).
   */
  uplinkAssignsExistingEdgeOrgs: boolean;
}

export const defaultKnobs: Readonly<SimKnobs> = Object.freeze({
  latencyMs: 0,
  taskDurationMs: 50,
  serializeEdges: true,
  serializeIpSpaces: false,
  allocationWritesLockIpSpace: false,
  providerBypassesQuota: false,
  rejectDeleteOfUsedAllocation: false,
  staticRouteVersionObjects: false,
  routeAdvertisementSyncMs: 50,
  routeAdvertisementSyncBusy: false,
  uplinkAssignsExistingEdgeOrgs: true,
});

/** Applies only known keys with the right type, so a bad admin request cannot corrupt the knobs. */
export function mergeKnobs(base: SimKnobs, patch: Partial<Record<keyof SimKnobs, unknown>>): SimKnobs {
  const next: SimKnobs = { ...base };
  for (const key of Object.keys(defaultKnobs) as Array<keyof SimKnobs>) {
    const value = patch[key];
    if (value === undefined) continue;
    const expected = typeof defaultKnobs[key];
    if (typeof value !== expected || (typeof value === 'number' && (!Number.isFinite(value) || value < 0))) {
      throw new TypeError(`knob ${key} must be a ${expected === 'number' ? 'non-negative number' : expected}`);
    }
    (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}
