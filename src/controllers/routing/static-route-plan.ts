// What an EdgeStaticRoute asks VCD to hold, and what to change to get there: pure functions, so
// the split of a default route and the in-place update rule are tested without a cloud.
import { ip } from '../../api/index.ts';
import type { EdgeStaticRoute as VcdRoute, StaticRouteNextHop } from '../../clients/vcd/index.ts';
import { routeVersion } from '../../clients/vcd/index.ts';

export interface ResolvedHop {
  ipAddress: string;
  adminDistance: number;
  scope?: { id: string; name: string; segment: boolean };
}

export interface DesiredRoute {
  name: string;
  description: string;
  networkCidr: string;
  nextHops: StaticRouteNextHop[];
}

/** The two /1 halves of a default route, or undefined when `cidr` is not a default route. */
export function defaultRouteHalves(cidr: string): [string, string] | undefined {
  const c = ip.parseCIDR(cidr);
  if (!c || c.prefixLength !== 0) return undefined;
  return c.ip.family === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1'];
}

/**
 * The routes to hold. A default route with a next hop on a segment-backed network is split in two
 * /1 routes: the edge's Tier-1 keeps its own default route to the Tier-0, which a second default
 * route cannot override, while the more specific halves win.
 */
export function desiredRoutes(o: { name: string; description: string; destination: string; hops: readonly ResolvedHop[] }): {
  routes: DesiredRoute[];
  split: boolean;
} {
  const nextHops = o.hops.map((h) => ({
    ipAddress: h.ipAddress,
    adminDistance: h.adminDistance,
    ...(h.scope ? { scope: { id: h.scope.id, name: h.scope.name, scopeType: 'NETWORK' as const } } : {}),
  }));
  const halves = o.hops.some((h) => h.scope?.segment) ? defaultRouteHalves(o.destination) : undefined;
  if (!halves) return { routes: [{ name: o.name, description: o.description, networkCidr: canonical(o.destination), nextHops }], split: false };
  return { routes: halves.map((h) => ({ name: `${o.name} [${h}]`, description: o.description, networkCidr: h, nextHops })), split: true };
}

export interface RoutePlan {
  create: DesiredRoute[];
  update: { id: string; body: VcdRoute; current: VcdRoute }[];
  /** Our routes no longer wanted (a split undone, a duplicate of a lost create). */
  remove: VcdRoute[];
  /** Ids of our routes that already match. */
  unchanged: string[];
}

/** Matches our routes to the desired ones by destination; everything else stays untouched. */
export function planRoutes(desired: readonly DesiredRoute[], ours: readonly VcdRoute[]): RoutePlan {
  const plan: RoutePlan = { create: [], update: [], remove: [], unchanged: [] };
  const left = [...ours];
  for (const d of desired) {
    const i = left.findIndex((r) => canonical(r.networkCidr) === d.networkCidr);
    const current = i >= 0 ? left.splice(i, 1)[0] : undefined;
    if (!current?.id) {
      plan.create.push(d);
      continue;
    }
    if (sameRoute(d, current)) {
      plan.unchanged.push(current.id);
      continue;
    }
    const version = routeVersion(current);
    // Written in place with the version read, so VCD keeps the id and refuses a stale write.
    plan.update.push({ id: current.id, current, body: { ...d, id: current.id, ...(version !== undefined ? { version: { version } } : {}) } });
  }
  plan.remove.push(...left);
  return plan;
}

function sameRoute(d: DesiredRoute, r: VcdRoute): boolean {
  return d.name === r.name && d.description === (r.description ?? '') && hopsKey(d.nextHops) === hopsKey(r.nextHops ?? []);
}

function hopsKey(hops: readonly StaticRouteNextHop[]): string {
  return JSON.stringify(hops.map((h) => [canonicalIP(h.ipAddress), h.adminDistance ?? 1, h.scope?.id ?? '']));
}

function canonical(cidr: string): string {
  const c = ip.parseCIDR(cidr);
  return c ? ip.formatCIDR(c) : cidr;
}

function canonicalIP(s: string): string {
  const a = ip.parseIP(s);
  return a ? ip.formatIP(a) : s;
}
