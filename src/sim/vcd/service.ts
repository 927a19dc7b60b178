// The simulated VCD as one service: its routes, its state and the way to reset it to the fixture.
import { randomUUID } from 'node:crypto';
import type { SimCore } from '../core/core.ts';
import type { Route, SimRequest, SimResponse } from '../core/types.ts';
import type { Fixture } from '../fixtures/fixture.ts';
import { AuthStore } from './auth.ts';
import { VcdContext, type VcdBackingHooks } from './context.ts';
import { edgeRoutes } from './routes-edge.ts';
import { firewallRoutes } from './routes-firewall.ts';
import { groupRoutes } from './routes-groups.ts';
import { inventoryRoutes } from './routes-inventory.ts';
import { ipSpaceRoutes } from './routes-ipspace.ts';
import { legacyRoutes } from './routes-legacy.ts';
import { queryRoutes } from './routes-query.ts';
import { sessionRoutes } from './routes-session.ts';
import { seedVcd } from './seed.ts';
import { VcdState } from './state.ts';
import { TaskStore } from './tasks.ts';
import { VcdError, errorResponse } from './errors.ts';
import { dumpVcd, type VcdDump } from './dump.ts';
import { eventOfWrite, messagesOf, orgsOfEvent, ownersOfTarget, type Actor, type VcdEvent } from './events.ts';
import { releaseAllocation } from './ipspace-model.ts';
import type { MessageBus } from './message-bus.ts';
import type { AllocationRec, IpSpaceRec } from './state.ts';

export interface VcdService {
  routes: Route[];
  notFound: (req: SimRequest) => SimResponse;
  faultBody: (status: number, req: SimRequest) => unknown;
  /** Everything the VCD holds, without credentials. */
  dump(): VcdDump;
  /** Back to the fixture: objects, sessions and tasks. */
  reset(): void;
  /** Ends every session (clients must log in or refresh their token again). */
  expireSessions(): number;
  /** The in-process state, for tests that need to look closer than the API shows. */
  readonly state: VcdState;
  readonly auth: AuthStore;
  /** Publishes an event for every entity write on `bus` from now on. */
  attachBus(bus: MessageBus): void;
  /** Before a write runs; the returned function publishes its event once it ran (serveRoutes' onWrite). */
  onWrite(req: SimRequest, routeKey: string): ((res: SimResponse) => void) | undefined;
  /** Writes made outside the API, as someone in the VCD UI would: they publish events as well. */
  outOfBand: OutOfBand;
}

export interface OutOfBand {
  /** Releases an allocation (by id) as a provider administrator would in the UI. */
  releaseAllocation(allocationId: string): AllocationRec;
  /** Edits an IP Space's name, description or route advertisement. */
  editIpSpace(id: string, patch: { name?: string; description?: string; routeAdvertisementEnabled?: boolean }): IpSpaceRec;
}

const ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'ACCESS_TO_RESOURCE_IS_FORBIDDEN',
  404: 'NOT_FOUND',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

export function createVcdService(opts: { core: SimCore; fixture: Fixture; hooks?: VcdBackingHooks }): VcdService {
  const now = (): number => opts.core.clock.now();
  const ctx = new VcdContext({ state: new VcdState(), auth: new AuthStore(now), tasks: new TaskStore(now), core: opts.core, hooks: opts.hooks ?? {} });
  seedVcd(ctx, opts.fixture);
  const routes = [
    ...sessionRoutes(ctx),
    ...legacyRoutes(ctx),
    ...queryRoutes(ctx),
    ...inventoryRoutes(ctx),
    ...ipSpaceRoutes(ctx),
    ...edgeRoutes(ctx),
    ...firewallRoutes(ctx),
    ...groupRoutes(ctx),
  ];

  let bus: MessageBus | undefined;
  const publish = (e: VcdEvent, owners: string[]): void => {
    bus?.publish(messagesOf(e, orgsOfEvent(ctx.state, e, owners)));
  };
  /** The provider administrator the UI acts as. */
  const uiActor = (): Actor => {
    const admin = ctx.auth.users().find((u) => u.provider);
    return { orgId: admin?.orgId ?? '', userId: admin?.id ?? '' };
  };
  const outOfBand: OutOfBand = {
    releaseAllocation(allocationId) {
      for (const space of ctx.state.ipSpaces.values()) {
        const a = space.allocations.get(allocationId);
        if (!a) continue;
        releaseAllocation(space, a);
        const e = eventOfWrite(
          { method: 'DELETE', pattern: '/cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}', params: { id: space.id, allocationId }, actor: uiActor() },
          now(),
        );
        if (e) publish(e, [a.orgId]);
        return a;
      }
      throw new RangeError(`no allocation ${allocationId}`);
    },
    editIpSpace(id, patch) {
      const space = ctx.state.ipSpaces.get(id);
      if (!space) throw new RangeError(`no IP Space ${id}`);
      if (patch.name !== undefined) space.name = patch.name;
      if (patch.description !== undefined) space.description = patch.description;
      if (patch.routeAdvertisementEnabled !== undefined) space.routeAdvertisementEnabled = patch.routeAdvertisementEnabled;
      const e = eventOfWrite({ method: 'PUT', pattern: '/cloudapi/1.0.0/ipSpaces/{id}', params: { id }, actor: uiActor() }, now());
      if (e) publish(e, ownersOfTarget(ctx.state, { id }));
      return space;
    },
  };

  return {
    routes,
    auth: ctx.auth,
    attachBus: (b) => void (bus = b),
    outOfBand,
    onWrite: (req, routeKey) => {
      if (!bus) return undefined;
      const owners = ownersOfTarget(ctx.state, req.params);
      const space = routeKey.indexOf(' ');
      const method = routeKey.slice(0, space);
      const pattern = routeKey.slice(space + 1);
      return (res) => {
        if (!req.actor) return;
        const taskUuid = /\/api\/task\/([^/?]+)$/.exec(res.headers?.['location'] ?? '')?.[1];
        const task = taskUuid ? ctx.tasks.get(taskUuid) : undefined;
        const e = eventOfWrite({ method, pattern, params: req.params, actor: req.actor, ...(task ? { task } : {}) }, now());
        if (e) publish(e, owners);
      };
    },
    notFound: (req) => errorResponse(new VcdError(404, 'NOT_FOUND', `The requested resource ${req.method} ${req.path} was not found.`), randomUUID(), req),
    faultBody: (status, req) => {
      const err = new VcdError(status, ERROR_CODES[status] ?? 'INTERNAL_SERVER_ERROR', `Injected fault: HTTP ${status}.`);
      return errorResponse(err, randomUUID(), req).body;
    },
    dump: () => dumpVcd(ctx),
    reset: () => {
      ctx.state.clear();
      ctx.auth.clear();
      ctx.tasks.clear();
      seedVcd(ctx, opts.fixture);
    },
    expireSessions: () => ctx.auth.expireAll(),
    state: ctx.state,
  };
}
