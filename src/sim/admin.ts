// Control of a running simulator: in-process (SimAdmin) and over HTTPS on the VCD listener under
// /admin/*, behind its own bearer token. Admin calls bypass latency, faults, counters and the audit
// log, so observing the simulator never changes what it counts.
import { timingSafeEqual } from 'node:crypto';
import type { RouteCounter, SimCore } from './core/core.ts';
import type { SimKnobs } from './core/knobs.ts';
import type { AuditEntry, FaultRule, Route, SimRequest, SimResponse } from './core/types.ts';
import type { NsxService, NsxState, TrafficDelta, TrafficRate } from './nsx/index.ts';
import { checkTrust, type TrustCheck, type VCenterService, type VCenterState, type VmcaRotationStep } from './vcenter/index.ts';
import type { VcdDump, VcdService } from './vcd/index.ts';
import type { MessageBus } from './vcd/message-bus.ts';

export interface SimStateDump {
  vcd: VcdDump;
  nsx: NsxState;
  vcenters: VCenterState[];
}

export interface SimAdmin {
  state(): SimStateDump;
  /** Writes recorded so far (bodies without secrets); `sinceSeq` returns only newer ones. */
  audit(sinceSeq?: number): AuditEntry[];
  counters(): RouteCounter[];
  /** Calls of one route (`METHOD pattern`), e.g. 'POST /cloudapi/1.0.0/ipSpaces/{id}/allocate'. */
  callCount(route: string, service?: 'vcd' | 'nsx' | 'vcenter'): number;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  faults(): FaultRule[];
  knobs(): SimKnobs;
  setKnobs(patch: Partial<SimKnobs>): SimKnobs;
  /** Ends every VCD session and access token, as an expiry would. */
  expireSessions(): number;
  /** Whether vCenter `source` trusts `destination` (a cross-vCenter vMotion needs it). */
  vcenterTrust(source: string, destination: string): TrustCheck;
  /** One step of a VMCA renewal on vCenter `name` (renew, switch, retire); resolves with the newest VMCA root. */
  rotateVmca(name: string, step: VmcaRotationStep): Promise<string>;
  /** State back to the fixture; counters, audit and faults cleared; knobs kept. */
  reset(): void;
  /** Releases an allocation out of band (as in the VCD UI); an event is published, no audit entry. */
  releaseAllocation(allocationId: string): { id: string; value: string };
  /** Edits an IP Space out of band (as in the VCD UI); an event is published. */
  editIpSpace(id: string, patch: { name?: string; description?: string; routeAdvertisementEnabled?: boolean }): { id: string; name: string };
  /** The message bus: whether it accepts clients, how many are connected, messages published. */
  messaging(): { available: boolean; clients: number; published: number };
  /** Takes the message bus away (clients dropped, connections refused) or brings it back. */
  setMessagingAvailable(up: boolean): void;
  /** The traffic knob: bytes per second each way, of one metered point (policy path) or of all others. */
  setTrafficRate(rate: TrafficRate, path?: string): void;
  /** Traffic through one metered point now (bytes, packets, drops), on its active edge node. */
  addTraffic(path: string, delta: TrafficDelta): void;
  /** An NSX edge reboot: counters of every metered point under `path` restart from zero. */
  nsxResetCounters(path: string): number;
  /** An NSX failover to the standby edge node of every metered point under `path`. */
  nsxFailover(path: string): number;
}

export function createAdmin(parts: { core: SimCore; vcd: VcdService; nsx: NsxService; vcenters: VCenterService[]; bus: MessageBus }): SimAdmin {
  const { core, vcd, nsx, vcenters, bus } = parts;
  const vc = (name: string): VCenterService => {
    const v = vcenters.find((x) => x.name === name);
    if (!v) throw new RangeError(`no vCenter named ${name}`);
    return v;
  };
  return {
    state: () => ({ vcd: vcd.dump(), nsx: nsx.state(), vcenters: vcenters.map((v) => v.state()) }),
    audit: (since) => core.audit(since),
    counters: () => core.counters(),
    callCount: (route, service) => core.callCount(route, service),
    addFault: (rule) => core.addFault(rule),
    clearFaults: () => core.clearFaults(),
    faults: () => core.faults(),
    knobs: () => ({ ...core.knobs }),
    setKnobs: (patch) => ({ ...core.setKnobs(patch) }),
    expireSessions: () => vcd.expireSessions(),
    vcenterTrust: (source, destination) => checkTrust(vc(source), vc(destination)),
    rotateVmca: (name, step) => {
      if (!['renew', 'switch', 'retire'].includes(step)) throw new TypeError(`unknown VMCA rotation step ${String(step)}: renew, switch or retire`);
      return vc(name).rotateVmca(step);
    },
    reset: () => {
      nsx.reset();
      vcd.reset();
      for (const v of vcenters) v.reset();
      core.resetObservations();
    },
    releaseAllocation: (id) => {
      const a = vcd.outOfBand.releaseAllocation(id);
      return { id: a.id, value: a.value };
    },
    editIpSpace: (id, patch) => {
      const s = vcd.outOfBand.editIpSpace(id, patch);
      return { id: s.id, name: s.name };
    },
    messaging: () => ({ available: bus.available, clients: bus.clients, published: bus.published }),
    setMessagingAvailable: (up) => bus.setAvailable(up),
    setTrafficRate: (rate, path) => (path ? nsx.setTrafficRate(path, rate) : nsx.setDefaultTrafficRate(rate)),
    addTraffic: (path, delta) => nsx.addTraffic(path, delta),
    nsxResetCounters: (path) => nsx.resetCounters(path),
    nsxFailover: (path) => nsx.failover(path),
  };
}

/** The /admin/* routes; each checks the admin bearer token itself. */
export function adminRoutes(admin: SimAdmin, adminToken: string): Route[] {
  const expected = Buffer.from(`Bearer ${adminToken}`);
  const guard =
    (fn: (req: SimRequest) => SimResponse) =>
    (req: SimRequest): SimResponse => {
      const got = Buffer.from(req.headers['authorization'] ?? '');
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        return { status: 401, body: { message: 'The admin API needs Authorization: Bearer <admin token>.' } };
      }
      try {
        return fn(req);
      } catch (err) {
        if (err instanceof TypeError || err instanceof RangeError) return { status: 400, body: { message: err.message } };
        throw err;
      }
    };
  const ok = (body: unknown): SimResponse => ({ status: 200, body });
  return [
    { method: 'GET', pattern: '/admin/state', handler: guard(() => ok(admin.state())) },
    { method: 'GET', pattern: '/admin/audit', handler: guard((req) => ok(admin.audit(Number(req.query.get('since') ?? '0') || 0))) },
    { method: 'GET', pattern: '/admin/counters', handler: guard(() => ok(admin.counters())) },
    { method: 'GET', pattern: '/admin/faults', handler: guard(() => ok(admin.faults())) },
    {
      method: 'POST',
      pattern: '/admin/faults',
      handler: guard((req) => {
        if (!req.body || typeof req.body !== 'object') throw new TypeError('the body must be a FaultRule');
        admin.addFault(req.body as FaultRule);
        return ok(admin.faults());
      }),
    },
    { method: 'DELETE', pattern: '/admin/faults', handler: guard(() => (admin.clearFaults(), { status: 204 })) },
    { method: 'GET', pattern: '/admin/knobs', handler: guard(() => ok(admin.knobs())) },
    {
      method: 'PATCH',
      pattern: '/admin/knobs',
      handler: guard((req) => {
        if (!req.body || typeof req.body !== 'object') throw new TypeError('the body must be an object of knobs');
        return ok(admin.setKnobs(req.body));
      }),
    },
    { method: 'POST', pattern: '/admin/reset', handler: guard(() => (admin.reset(), { status: 204 })) },
    { method: 'POST', pattern: '/admin/sessions/expire', handler: guard(() => ok({ expired: admin.expireSessions() })) },
    { method: 'DELETE', pattern: '/admin/vcd/allocations/{id}', handler: guard((req) => ok(admin.releaseAllocation(req.params['id'] ?? ''))) },
    {
      method: 'PATCH',
      pattern: '/admin/vcd/ipSpaces/{id}',
      handler: guard((req) => {
        const b = req.body as Record<string, unknown> | undefined;
        if (!b || typeof b !== 'object') throw new TypeError('the body must be an object of name, description, routeAdvertisementEnabled');
        const patch: { name?: string; description?: string; routeAdvertisementEnabled?: boolean } = {};
        if (typeof b['name'] === 'string') patch.name = b['name'];
        if (typeof b['description'] === 'string') patch.description = b['description'];
        if (typeof b['routeAdvertisementEnabled'] === 'boolean') patch.routeAdvertisementEnabled = b['routeAdvertisementEnabled'];
        return ok(admin.editIpSpace(req.params['id'] ?? '', patch));
      }),
    },
    {
      method: 'PUT',
      pattern: '/admin/nsx/traffic',
      handler: guard((req) => {
        const b = (req.body ?? {}) as { rxBytesPerSecond?: unknown; txBytesPerSecond?: unknown; path?: unknown };
        const rx = b.rxBytesPerSecond;
        const tx = b.txBytesPerSecond;
        if (typeof rx !== 'number' || typeof tx !== 'number' || rx < 0 || tx < 0)
          throw new TypeError('the body must be {rxBytesPerSecond, txBytesPerSecond, path?} with non-negative numbers');
        admin.setTrafficRate({ rxBytesPerSecond: rx, txBytesPerSecond: tx }, typeof b.path === 'string' ? b.path : undefined);
        return { status: 204 };
      }),
    },
    {
      method: 'POST',
      pattern: '/admin/nsx/reset-counters',
      handler: guard((req) => ok({ points: admin.nsxResetCounters(pathOf(req)) })),
    },
    {
      method: 'POST',
      pattern: '/admin/nsx/failover',
      handler: guard((req) => ok({ points: admin.nsxFailover(pathOf(req)) })),
    },
    { method: 'GET', pattern: '/admin/messaging', handler: guard(() => ok(admin.messaging())) },
    {
      method: 'PUT',
      pattern: '/admin/messaging',
      handler: guard((req) => {
        const up = (req.body as { available?: unknown } | undefined)?.available;
        if (typeof up !== 'boolean') throw new TypeError('the body must be {"available": true|false}');
        admin.setMessagingAvailable(up);
        return ok(admin.messaging());
      }),
    },
    {
      method: 'POST',
      pattern: '/admin/vcenters/{name}/vmca/{step}',
      handler: async (req) => {
        const checked = guard(() => ok(null))(req);
        if (checked.status !== 200) return checked;
        try {
          return ok({ root: await admin.rotateVmca(req.params['name'] ?? '', (req.params['step'] ?? '') as VmcaRotationStep) });
        } catch (err) {
          if (err instanceof TypeError || err instanceof RangeError) return { status: 400, body: { message: err.message } };
          throw err;
        }
      },
    },
    {
      method: 'GET',
      pattern: '/admin/vcenters/{source}/trusts/{destination}',
      handler: guard((req) => ok(admin.vcenterTrust(req.params['source'] ?? '', req.params['destination'] ?? ''))),
    },
  ];
}

/** The `path` of an admin request body: an NSX policy path. */
function pathOf(req: SimRequest): string {
  const path = (req.body as { path?: unknown } | undefined)?.path;
  if (typeof path !== 'string' || !path.startsWith('/infra/')) throw new TypeError('the body must be {"path": "/infra/..."}');
  return path;
}
