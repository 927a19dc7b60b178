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
  const routes = [...sessionRoutes(ctx), ...legacyRoutes(ctx), ...queryRoutes(ctx), ...inventoryRoutes(ctx), ...ipSpaceRoutes(ctx), ...edgeRoutes(ctx), ...firewallRoutes(ctx), ...groupRoutes(ctx)];

  return {
    routes,
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
