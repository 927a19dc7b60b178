// The simulated NSX Manager (Policy API). The VCD part calls ensureTier0/ensureTier1 and the
// interface helpers so that provider gateways and edge gateways show up here as their backings;
// the server runs `routes` with `notFound` and `faultBody` so every answer has NSX's error shape.
import type { SimClock } from '../core/core.ts';
import type { Route, SimRequest, SimResponse } from '../core/types.ts';
import { NsxAuth } from './auth.ts';
import { NsxApiError, NsxErrorCode, nsxErrorBody, nsxError, type NsxErrorBody } from './errors.ts';
import { KINDS, TIER0, TIER1 } from './kinds.ts';
import { DEFAULT_EDGE_CLUSTER_PATH, DEFAULT_EDGE_NODE_PATH, POLICY_PREFIX, STANDBY_EDGE_NODE_PATH, buildRoutes } from './routes.ts';
import { PolicyStore, type NsxObject } from './store.ts';
import { TrafficModel, type TrafficDelta, type TrafficRate } from './traffic.ts';

export { NsxApiError, NsxErrorCode, type NsxErrorBody, type NsxObject, type TrafficDelta, type TrafficRate };
export { POLICY_PREFIX, DEFAULT_EDGE_NODE_PATH };

export interface NsxServiceOptions {
  username: string;
  password: string;
  clock?: SimClock;
  /** Idle session lifetime; 30 minutes by default. */
  sessionIdleTimeoutMs?: number;
  /** How a stale `_revision` is refused: 412 with error_code 500087 unless told otherwise. */
  staleRevision?: { status: number; errorCode: number };
  /** Traffic each new interface carries until setTrafficRate changes it. */
  defaultTrafficRate?: TrafficRate;
}

/** An NSX subnet as the Policy API writes it. */
export interface NsxSubnet {
  ip_addresses: string[];
  prefix_len: number;
}

export interface InterfaceSpec {
  segmentPath: string;
  subnets: NsxSubnet[];
  /** Tier-0 only; EXTERNAL by default. */
  type?: 'EXTERNAL' | 'SERVICE' | 'LOOPBACK';
  /** The edge node that reports this interface's statistics. */
  edgePath?: string;
  displayName?: string;
}

export interface NsxState {
  objects: NsxObject[];
  /** How many sessions are open (never their ids or tokens). */
  sessions: number;
}

export interface NsxService {
  routes: Route[];
  /** For unmatched paths: NSX's 404 body. */
  notFound: (req: SimRequest) => SimResponse;
  /** For injected status faults: NSX's error body. */
  faultBody: (status: number, req: SimRequest) => NsxErrorBody;
  /** Makes sure the tier-0 (with locale-services `default`) exists; returns its policy path. */
  ensureTier0(id: string, displayName: string): string;
  /**
   * Makes sure the tier-1 (with locale-services `default`) exists and is linked to `tier0Path`.
   * Like every helper here it validates as the API would: an unknown tier0Path throws NsxApiError.
   */
  ensureTier1(id: string, displayName: string, tier0Path?: string): string;
  /** An uplink or service interface on the tier-0's `default` locale-services; returns its path. */
  addTier0Interface(tier0Id: string, interfaceId: string, spec: InterfaceSpec): string;
  /** A service interface on the tier-1's `default` locale-services; returns its path. */
  addTier1Interface(tier1Id: string, interfaceId: string, spec: InterfaceSpec): string;
  /**
   * Removes a tier-1 and everything under it, as VCD does when an edge gateway is deleted. Rules
   * elsewhere that are scoped to it are left as they are (VCD removes the edge's own policy).
   */
  removeTier1(id: string): void;
  setTrafficRate(interfacePath: string, rate: TrafficRate): void;
  /** The traffic knob: the rate of every point not given its own. */
  setDefaultTrafficRate(rate: TrafficRate): void;
  /**
   * An edge reboot: counters of every metered point under `gatewayPath` (a gateway, an interface,
   * or a Tier-0's tier-1-interface/{tier1 path}) restart from zero. Returns the points reset.
   */
  resetCounters(gatewayPath: string): number;
  /** A failover to the standby edge node, whose counters start from zero. Returns the points moved. */
  failover(gatewayPath: string): number;
  addTraffic(interfacePath: string, delta: TrafficDelta): void;
  /** A copy of the object at a policy path, for tests and the admin API. */
  get(path: string): NsxObject | undefined;
  state(): NsxState;
  /** Forgets every object, session and counter. */
  reset(): void;
}

const SYSTEM_USER = 'system';
const DEFAULT_RATE: TrafficRate = { rxBytesPerSecond: 125_000, txBytesPerSecond: 62_500 };

export function createNsxService(opts: NsxServiceOptions): NsxService {
  const clock: SimClock = opts.clock ?? { now: () => Date.now() };
  const store = new PolicyStore({
    staleRevisionStatus: opts.staleRevision?.status ?? 412,
    staleRevisionErrorCode: opts.staleRevision?.errorCode ?? NsxErrorCode.staleRevision,
  });
  const auth = new NsxAuth(opts, clock, opts.sessionIdleTimeoutMs ?? 30 * 60_000);
  const traffic = new TrafficModel(clock, opts.defaultTrafficRate ?? DEFAULT_RATE, [DEFAULT_EDGE_NODE_PATH, STANDBY_EDGE_NODE_PATH]);
  let ruleId = 1000;
  const routes = buildRoutes({ store, auth, traffic, clock, user: opts.username, nextRuleId: () => ++ruleId });

  const kind = (resourceType: string, collection: string) =>
    KINDS.find((k) => k.resourceType === resourceType && k.collection.startsWith(collection)) as (typeof KINDS)[number];

  /** A system write: merge `fields`, validate as the API would, store only when something changed. */
  const upsert = (resourceType: string, collection: string, path: string, fields: Record<string, unknown>): string => {
    const existing = store.get(path);
    if (existing && Object.entries(fields).every(([k, v]) => JSON.stringify(existing[k]) === JSON.stringify(v))) return path;
    const obj = store.prepare('patch', path, resourceType, fields, { nowMs: clock.now(), user: SYSTEM_USER });
    kind(resourceType, collection).validate?.(obj, store);
    store.commit(obj);
    return path;
  };
  const ensureLocaleServices = (gatewayPath: string, collection: string): void => {
    const path = `${gatewayPath}/locale-services/default`;
    if (!store.has(path)) upsert('LocaleServices', collection, path, { edge_cluster_path: DEFAULT_EDGE_CLUSTER_PATH });
  };
  const addInterface = (gatewayPath: string, collection: string, resourceType: string, interfaceId: string, spec: InterfaceSpec): string => {
    if (!store.has(gatewayPath)) throw new Error(`no gateway at ${gatewayPath}`);
    ensureLocaleServices(gatewayPath, collection);
    const fields: Record<string, unknown> = {
      display_name: spec.displayName ?? interfaceId,
      segment_path: spec.segmentPath,
      subnets: spec.subnets,
    };
    if (resourceType === 'Tier0Interface') fields.type = spec.type ?? 'EXTERNAL';
    if (spec.edgePath) fields.edge_path = spec.edgePath;
    return upsert(resourceType, collection, `${gatewayPath}/locale-services/default/interfaces/${interfaceId}`, fields);
  };

  return {
    routes,
    notFound: (req) => nsxError(404, NsxErrorCode.notFound, `The requested URI: ${req.path} could not be found.`, 'common-services'),
    // The code repeats the status: NSX's own codes carry meanings (98 = bad XSRF, 607 = retry) a fault must not imply.
    faultBody: (status) => nsxErrorBody(status, status, `Injected fault: HTTP ${status}.`),
    ensureTier0(id, displayName) {
      const path = upsert('Tier0', TIER0, `${TIER0}/${id}`, { display_name: displayName });
      ensureLocaleServices(path, TIER0);
      return path;
    },
    ensureTier1(id, displayName, tier0Path) {
      const fields: Record<string, unknown> = { display_name: displayName };
      if (tier0Path !== undefined) fields.tier0_path = tier0Path;
      const path = upsert('Tier1', TIER1, `${TIER1}/${id}`, fields);
      ensureLocaleServices(path, TIER1);
      return path;
    },
    addTier0Interface: (t0, ifId, spec) => addInterface(`${TIER0}/${t0}`, TIER0, 'Tier0Interface', ifId, spec),
    addTier1Interface: (t1, ifId, spec) => addInterface(`${TIER1}/${t1}`, TIER1, 'Tier1Interface', ifId, spec),
    removeTier1(id) {
      store.delete(`${TIER1}/${id}`);
      traffic.forget(`${TIER1}/${id}`);
    },
    setTrafficRate: (path, rate) => traffic.setRate(path, rate),
    setDefaultTrafficRate: (rate) => traffic.setDefaultRate(rate),
    resetCounters: (gatewayPath) => traffic.reset(gatewayPath),
    failover: (gatewayPath) => traffic.failover(gatewayPath),
    addTraffic: (path, delta) => traffic.add(path, delta),
    get: (path) => {
      const obj = store.get(path);
      return obj ? structuredClone(obj) : undefined;
    },
    state: () => ({ objects: structuredClone(store.all()), sessions: auth.sessionCount }),
    reset() {
      store.clear();
      auth.clear();
      traffic.clear();
      ruleId = 1000;
    },
  };
}
