// What every VCD route handler gets: the state, the caller, the requested API version, and the
// helpers that make a write look like VCD's (202 + task, per-edge and per-IP-Space locks).
import { randomUUID } from 'node:crypto';
import type { SimCore } from '../core/core.ts';
import type { SimRequest, SimResponse } from '../core/types.ts';
import type { AuthStore, Caller } from './auth.ts';
import { VcdError, busyEntity, errorResponse, forbiddenUnknown } from './errors.ts';
import type { TaskError, TaskRef, TaskStore } from './tasks.ts';
import { SUPPORTED_VERSIONS, atLeast, requestedVersion } from './version.ts';
import type { EdgeRec, ExternalNetworkRec, IpSpaceRec, VcdState } from './state.ts';
import { uuidOf } from './state.ts';

/** Calls into the NSX part so VCD objects have their NSX backings (tier-0 / tier-1 gateways). */
export interface VcdBackingHooks {
  providerGatewayCreated?(net: ExternalNetworkRec): void;
  /** After an edge is created or its uplinks change; `networks` are its uplinks' external networks. */
  edgeSaved?(edge: EdgeRec, networks: ExternalNetworkRec[]): void;
  edgeDeleted?(edge: EdgeRec): void;
}

export interface Call {
  req: SimRequest;
  caller: Caller;
  version: string;
  /** https://host:port as the client addressed this listener. */
  base: string;
}

export interface TaskOutcome {
  result?: string;
  details?: string;
  error?: TaskError;
}

export interface AcceptOptions {
  operation: string;
  operationName: string;
  owner: TaskRef;
  /** The entity whose write lock the task holds while it runs. */
  lock?: { edge: EdgeRec } | { ipSpace: IpSpaceRec };
  /** Applies the write; skipped when a 'task-error' fault is injected. */
  work: () => TaskOutcome | void;
}

export class VcdContext {
  readonly state: VcdState;
  readonly auth: AuthStore;
  readonly tasks: TaskStore;
  readonly core: SimCore;
  readonly hooks: VcdBackingHooks;

  constructor(opts: { state: VcdState; auth: AuthStore; tasks: TaskStore; core: SimCore; hooks: VcdBackingHooks }) {
    this.state = opts.state;
    this.auth = opts.auth;
    this.tasks = opts.tasks;
    this.core = opts.core;
    this.hooks = opts.hooks;
  }

  now(): number {
    return this.core.clock.now();
  }

  /** Wraps an unauthenticated handler so thrown VcdErrors become VCD error bodies. */
  open(handler: (req: SimRequest) => SimResponse): (req: SimRequest) => SimResponse {
    return (req) => {
      try {
        return handler(req);
      } catch (err) {
        if (err instanceof VcdError) return errorResponse(err, randomUUID(), req);
        throw err;
      }
    };
  }

  /** Wraps a CloudAPI handler: bearer auth, API version from Accept (and the route's minimum). */
  api(minVersion: string, handler: (call: Call) => SimResponse): (req: SimRequest) => SimResponse {
    return this.open((req) => {
      const version = this.checkVersion(req, minVersion);
      const caller = this.auth.authenticate(req, (uuid) => this.state.orgByUuid.get(uuid));
      req.actor = { orgId: caller.orgId, userId: caller.user.id };
      return handler({ req, caller, version, base: baseUrl(req) });
    });
  }

  checkVersion(req: SimRequest, minVersion: string): string {
    const version = requestedVersion(req.headers['accept']);
    if (!version || !(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
      throw new VcdError(
        406,
        'NOT_ACCEPTABLE',
        `The request has an invalid accept header: API version ${version ?? '(none)'} is not supported; use one of ${SUPPORTED_VERSIONS.join(', ')}.`,
      );
    }
    if (!atLeast(version, minVersion)) {
      throw new VcdError(404, 'NOT_FOUND', `The API endpoint ${req.path} is not available in API version ${version} (needs ${minVersion}).`);
    }
    return version;
  }

  requireProvider(call: Call): void {
    if (!call.caller.provider) {
      throw new VcdError(403, 'ACCESS_TO_RESOURCE_IS_FORBIDDEN', 'This operation requires the System Administrator role.');
    }
  }

  /** An edge the caller may see, or 403 as VCD answers for unknown ids. */
  edge(call: Call, id: string): EdgeRec {
    const e = this.state.edges.get(id);
    if (!e || (!call.caller.provider && e.orgId !== call.caller.orgId)) throw forbiddenUnknown(id);
    return e;
  }

  /** An IP Space the caller may see: providers see all; tenants their PRIVATE ones and assigned ones. */
  ipSpace(call: Call, id: string): IpSpaceRec {
    const s = this.state.ipSpaces.get(id);
    if (!s || !this.ipSpaceVisible(call.caller, s)) throw forbiddenUnknown(id);
    return s;
  }

  ipSpaceVisible(caller: Caller, s: IpSpaceRec): boolean {
    if (caller.provider && caller.orgId === caller.user.orgId) return true;
    if (s.type === 'PRIVATE') return s.orgId === caller.orgId;
    return this.state.assignmentFor(s.id, caller.orgId) !== undefined;
  }

  userRef(call: Call): TaskRef {
    return { id: call.caller.user.id, name: call.caller.user.username, type: 'application/vnd.vmware.admin.user+xml' };
  }

  orgRef(orgId: string): TaskRef {
    return { id: orgId, name: this.state.orgName(orgId), type: 'application/vnd.vmware.vcloud.org+xml' };
  }

  /** Starts the task for a write and answers 202 with its Location (VCD's async contract). */
  accepted(call: Call, opts: AcceptOptions): SimResponse {
    const lock = opts.lock ? ('edge' in opts.lock ? opts.lock.edge : opts.lock.ipSpace) : undefined;
    const serialise = opts.lock ? ('edge' in opts.lock ? this.core.knobs.serializeEdges : this.core.knobs.serializeIpSpaces) : false;
    // A running route advertisement sync holds its IP Space only when that knob is on (it is the
    // only way lock.busy names that operation).
    if (lock?.busy && (serialise || lock.busy.operation === ROUTE_ADVERTISEMENT_SYNC)) {
      const holder = this.tasks.get(lock.busy.taskUuid);
      if (holder && this.tasks.running(holder)) {
        const kind = opts.lock && 'edge' in opts.lock ? 'com.vmware.vcloud.entity.gateway' : 'com.vmware.vcloud.entity.ipSpace';
        throw busyEntity(`Ref: ${kind}:${uuidOf(lock.id)}`, lock.busy.operation);
      }
    }
    const fault = call.req.fault;
    let outcome: TaskOutcome;
    if (fault?.kind === 'task-error') {
      outcome = {
        error: {
          majorErrorCode: 500,
          minorErrorCode: 'INTERNAL_SERVER_ERROR',
          message: `[ ${randomUUID()} ] Injected task failure for ${opts.operationName}.`,
        },
      };
    } else {
      outcome = opts.work() ?? {};
    }
    const extra = fault?.kind === 'slow-task' ? (fault.delayMs ?? 0) : 0;
    const task = this.tasks.create({
      operation: opts.operation,
      operationName: opts.operationName,
      owner: opts.owner,
      user: this.userRef(call),
      org: this.orgRef(call.caller.orgId),
      durationMs: this.core.knobs.taskDurationMs + extra,
      ...outcome,
    });
    if (lock) lock.busy = { taskUuid: task.uuid, operation: opts.operation };
    return { status: 202, headers: { location: `${call.base}/api/task/${task.uuid}` } };
  }

  /**
   * The `ipSpaceUplinkRouteAdvertisementSync` task VCD runs after an IP Space uplink changes or an
   * uplinked IP Space is updated (govcd's WaitForRouteAdvertisementTasks and terraform-provider-vcd
   * wait for it, because writes "might" fail with BUSY while it runs). It belongs to the System
   * org, so providers find it with the adminTask query; tenants do not see it.
   */
  startRouteAdvertisementSync(call: Call, space: IpSpaceRec): void {
    const extra = this.core.knobs.routeAdvertisementSyncMs;
    if (extra <= 0) return;
    const system = [...this.state.orgs.values()].find((o) => o.provider);
    if (!system) return;
    const task = this.tasks.create({
      operation: ROUTE_ADVERTISEMENT_SYNC,
      operationName: 'Synchronizing IP Space uplink route advertisement',
      owner: { id: space.id, name: space.name, type: 'application/json' },
      user: this.userRef(call),
      org: this.orgRef(system.id),
      durationMs: this.core.knobs.taskDurationMs + extra,
    });
    if (this.core.knobs.routeAdvertisementSyncBusy) space.busy = { taskUuid: task.uuid, operation: ROUTE_ADVERTISEMENT_SYNC };
  }
}

export const ROUTE_ADVERTISEMENT_SYNC = 'IP_SPACE_UPLINK_ROUTE_ADVERTISEMENT_SYNC';

export function baseUrl(req: SimRequest): string {
  return `https://${req.headers['host'] ?? 'localhost'}`;
}

export function ok(body: unknown): SimResponse {
  return { status: 200, body };
}
