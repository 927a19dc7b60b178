// The NSX Manager routes: session endpoints, CRUD for each policy kind, interface statistics and
// the realization status clients poll. Handlers work on the PolicyStore; auth and the NSX error
// body are applied here, once, around every route.
import { createHash } from 'node:crypto';
import type { SimClock } from '../core/core.ts';
import type { HttpMethod, Route, SimRequest, SimResponse } from '../core/types.ts';
import type { NsxAuth } from './auth.ts';
import { NsxApiError, NsxErrorCode, nsxError } from './errors.ts';
import { DEFAULT_DOMAIN, KINDS, RULE_KIND, type KindSpec } from './kinds.ts';
import type { NsxObject, PolicyStore } from './store.ts';
import type { TrafficModel } from './traffic.ts';

export const POLICY_PREFIX = '/policy/api/v1';
export const DEFAULT_EDGE_CLUSTER_PATH = '/infra/sites/default/enforcement-points/default/edge-clusters/edge-cluster-1';
/** The edge node interfaces report statistics from when they name none. */
export const DEFAULT_EDGE_NODE_PATH = `${DEFAULT_EDGE_CLUSTER_PATH}/edge-nodes/0`;
/** The standby edge node of every service router (active/standby pairs). */
export const STANDBY_EDGE_NODE_PATH = `${DEFAULT_EDGE_CLUSTER_PATH}/edge-nodes/1`;
const MAX_PAGE_SIZE = 1000;

export interface RouteDeps {
  store: PolicyStore;
  auth: NsxAuth;
  traffic: TrafficModel;
  clock: SimClock;
  /** The user recorded in _create_user/_last_modified_user for API writes. */
  user: string;
  nextRuleId: () => number;
}

type Handler = (req: SimRequest) => SimResponse;

export function buildRoutes(deps: RouteDeps): Route[] {
  const guarded =
    (handler: Handler): Handler =>
    (req) => {
      const denied = deps.auth.check(req);
      if (denied) return denied;
      try {
        return handler(req);
      } catch (err) {
        if (err instanceof NsxApiError) return err.toResponse();
        throw err;
      }
    };
  const route = (method: HttpMethod, pattern: string, handler: Handler): Route => ({ method, pattern, handler: guarded(handler) });

  const routes: Route[] = [
    { method: 'POST', pattern: '/api/session/create', handler: (req) => deps.auth.createSession(req) },
    { method: 'POST', pattern: '/api/session/destroy', handler: (req) => deps.auth.destroySession(req) },
  ];
  for (const kind of KINDS) {
    const collection = `${POLICY_PREFIX}${kind.collection}`;
    const item = `${collection}/{id}`;
    routes.push(
      route('GET', collection, (req) => listHandler(deps, kind, req)),
      route('GET', item, (req) => getHandler(deps, kind, req)),
      route('PUT', item, (req) => writeHandler(deps, kind, 'put', req)),
      route('PATCH', item, (req) => writeHandler(deps, kind, 'patch', req)),
      route('DELETE', item, (req) => deleteHandler(deps, kind, req)),
    );
  }
  for (const tier of ['tier-0s/{gw}', 'tier-1s/{gw}']) {
    const iface = `${POLICY_PREFIX}/infra/${tier}/locale-services/{ls}/interfaces/{id}`;
    routes.push(
      route('GET', `${iface}/statistics`, (req) => statisticsHandler(deps, req, false)),
      route('GET', `${iface}/statistics/summary`, (req) => statisticsHandler(deps, req, true)),
    );
  }
  // The Tier-0 end of the link to one Tier-1 (a shared Tier-0's downlink to one tenant).
  const link = `${POLICY_PREFIX}/infra/tier-0s/{gw}/tier-1-interface/statistics`;
  routes.push(
    route('GET', link, (req) => linkStatisticsHandler(deps, req, false)),
    route('GET', `${link}/summary`, (req) => linkStatisticsHandler(deps, req, true)),
  );
  routes.push(route('GET', `${POLICY_PREFIX}/infra/realized-state/status`, (req) => realizedStatus(deps, req)));
  return routes;
}

/** The concrete collection path (/infra/tier-0s/t0/prefix-lists) from a kind's pattern and the request. */
function collectionPath(kind: KindSpec, req: SimRequest): string {
  return kind.collection.replace(/\{(\w+)\}/g, (_m, name: string) => req.params[name] ?? '');
}

function itemPath(kind: KindSpec, req: SimRequest): string {
  return `${collectionPath(kind, req)}/${req.params.id ?? ''}`;
}

function parentExists(store: PolicyStore, collection: string): boolean {
  const parent = collection.slice(0, collection.lastIndexOf('/'));
  if (parent === '/infra') return true;
  if (/^\/infra\/domains\/[^/]+$/.test(parent)) return parent === DEFAULT_DOMAIN;
  return store.has(parent);
}

function notFound(path: string): NsxApiError {
  return new NsxApiError(404, NsxErrorCode.notFound, `The requested object : ${path} could not be found. Object identifiers are case sensitive.`);
}

function listHandler(deps: RouteDeps, kind: KindSpec, req: SimRequest): SimResponse {
  const collection = collectionPath(kind, req);
  if (!parentExists(deps.store, collection)) throw notFound(collection.slice(0, collection.lastIndexOf('/')));
  let results = deps.store.list(collection);
  if (kind === RULE_KIND) results = sortRules(results);
  if (kind.resourceType === 'GatewayPolicy' && req.query.get('include_rule_count') === 'true') {
    results = results.map((p) => ({ ...p, rule_count: deps.store.list(`${p.path}/rules`).length }));
  }
  return { status: 200, body: page(results, req) };
}

function getHandler(deps: RouteDeps, kind: KindSpec, req: SimRequest): SimResponse {
  const path = itemPath(kind, req);
  const obj = deps.store.get(path);
  if (!obj || obj.resource_type !== kind.resourceType) throw notFound(path);
  return { status: 200, body: present(deps, obj) };
}

/** What GET answers: a gateway policy embeds its rules in evaluation order. */
function present(deps: RouteDeps, obj: NsxObject): NsxObject {
  if (obj.resource_type !== 'GatewayPolicy') return obj;
  const rules = sortRules(deps.store.list(`${obj.path}/rules`));
  return { ...obj, rules, rule_count: rules.length };
}

function writeHandler(deps: RouteDeps, kind: KindSpec, mode: 'put' | 'patch', req: SimRequest): SimResponse {
  const path = itemPath(kind, req);
  if (!parentExists(deps.store, collectionPath(kind, req))) {
    throw new NsxApiError(400, NsxErrorCode.invalidPath, `The path=[${path}] is invalid: its parent does not exist.`);
  }
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new NsxApiError(400, NsxErrorCode.invalidArgument, 'The request body must be a JSON object.');
  }
  const { rules, rule_count: _ignored, ...fields } = body as Record<string, unknown>;
  const ctx = { nowMs: deps.clock.now(), user: deps.user };

  // Everything is prepared and validated before anything is stored: a rejected write changes nothing.
  const obj = prepareValid(deps, kind, mode, path, fields, ctx);
  const embedded: NsxObject[] = [];
  if (kind.resourceType === 'GatewayPolicy' && rules !== undefined) {
    if (!Array.isArray(rules)) throw new NsxApiError(400, NsxErrorCode.invalidArgument, 'rules must be a list.');
    const seen = new Set<string>();
    for (const r of rules as unknown[]) {
      const rule = (r ?? {}) as Record<string, unknown>;
      if (typeof rule.id !== 'string' || rule.id === '' || rule.id.includes('/')) {
        throw new NsxApiError(400, NsxErrorCode.invalidArgument, 'Each embedded rule needs an id.');
      }
      if (seen.has(rule.id)) throw new NsxApiError(400, NsxErrorCode.invalidArgument, `Rule id ${rule.id} appears twice.`);
      seen.add(rule.id);
      embedded.push(prepareValid(deps, RULE_KIND, 'patch', `${path}/rules/${rule.id}`, rule, ctx));
    }
  }

  deps.store.commit(obj);
  for (const rule of embedded) deps.store.commit(rule);
  // A PUT of a policy with rules states the whole rule set [I: mirrors the H-API replace semantics].
  if (mode === 'put' && rules !== undefined) {
    const keep = new Set(embedded.map((r) => r.path));
    for (const old of deps.store.list(`${path}/rules`)) if (!keep.has(old.path)) deps.store.delete(old.path);
  }
  return mode === 'put' ? { status: 200, body: present(deps, obj) } : { status: 200 };
}

function prepareValid(
  deps: RouteDeps,
  kind: KindSpec,
  mode: 'put' | 'patch',
  path: string,
  fields: Record<string, unknown>,
  ctx: { nowMs: number; user: string },
): NsxObject {
  const existing = deps.store.get(path);
  if (existing && existing.resource_type !== kind.resourceType) throw notFound(path);
  const obj = deps.store.prepare(mode, path, kind.resourceType, fields, ctx);
  kind.validate?.(obj, deps.store);
  if (kind === RULE_KIND) obj.rule_id = existing?.rule_id ?? deps.nextRuleId();
  return obj;
}

function deleteHandler(deps: RouteDeps, kind: KindSpec, req: SimRequest): SimResponse {
  const path = itemPath(kind, req);
  const obj = deps.store.get(path);
  // NSX deletes are idempotent: deleting what is not there succeeds [I].
  if (!obj || obj.resource_type !== kind.resourceType) return { status: 200 };
  const users = deps.store.referrers(path);
  if (users.length > 0) {
    throw new NsxApiError(400, NsxErrorCode.inUse, `The object ${path} is in use by ${users.join(', ')}. Remove those references first.`);
  }
  deps.store.delete(path);
  deps.traffic.forget(path);
  return { status: 200 };
}

function statisticsHandler(deps: RouteDeps, req: SimRequest, summary: boolean): SimResponse {
  const tier = req.path.includes('/infra/tier-0s/') ? 'tier-0s' : 'tier-1s';
  const path = `/infra/${tier}/${req.params.gw ?? ''}/locale-services/${req.params.ls ?? ''}/interfaces/${req.params.id ?? ''}`;
  const iface = deps.store.get(path);
  if (!iface) throw notFound(path);
  const edgePath = typeof iface.edge_path === 'string' ? iface.edge_path : DEFAULT_EDGE_NODE_PATH;
  return statisticsBody(deps, req, path, String(iface.unique_id), edgePath, summary);
}

function linkStatisticsHandler(deps: RouteDeps, req: SimRequest, summary: boolean): SimResponse {
  const t0 = `/infra/tier-0s/${req.params.gw ?? ''}`;
  if (!deps.store.get(t0)) throw notFound(t0);
  const t1Path = req.query.get('tier1_path');
  if (!t1Path) return nsxError(400, NsxErrorCode.invalidArgument, 'tier1_path is required.');
  const t1 = deps.store.get(t1Path);
  if (!t1 || t1.tier0_path !== t0) throw notFound(`${t0}/tier-1-interface?tier1_path=${t1Path}`);
  return statisticsBody(deps, req, `${t0}/tier-1-interface${t1Path}`, stableUuid(`${t0}|${t1Path}`), DEFAULT_EDGE_NODE_PATH, summary);
}

/** PolicyInterfaceStatistics (one entry per edge node, active first) or its summary (summed once). */
function statisticsBody(deps: RouteDeps, req: SimRequest, point: string, portId: string, edgePath: string, summary: boolean): SimResponse {
  const nodes = deps.traffic.readNodes(point, edgePath);
  if (summary) {
    const sum = (dir: 'rx' | 'tx') =>
      nodes.reduce<Record<string, number>>((acc, n) => {
        for (const [k, v] of Object.entries(n[dir]) as Array<[string, number]>) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {});
    return {
      status: 200,
      body: {
        logical_router_port_id: portId,
        interface_policy_path: point,
        last_update_timestamp: Math.max(...nodes.map((n) => n.lastUpdateMs)),
        rx: sum('rx'),
        tx: sum('tx'),
      },
    };
  }
  const wanted = req.query.get('edge_path');
  const per = nodes
    .filter((n) => !wanted || n.edgePath === wanted)
    .map((n) => ({ transport_node_id: stableUuid(n.edgePath), last_update_timestamp: n.lastUpdateMs, rx: n.rx, tx: n.tx }));
  return { status: 200, body: { logical_router_port_id: portId, per_node_statistics: per } };
}

function realizedStatus(deps: RouteDeps, req: SimRequest): SimResponse {
  const intent = req.query.get('intent_path');
  if (!intent) return nsxError(400, NsxErrorCode.invalidArgument, 'intent_path is required.');
  const obj = deps.store.get(intent);
  if (!obj) throw notFound(intent);
  return {
    status: 200,
    body: {
      intent_path: intent,
      intent_version: String(obj._revision),
      publish_status: 'REALIZED',
      consolidated_status: { consolidated_status: 'SUCCESS' },
    },
  };
}

function sortRules(rules: NsxObject[]): NsxObject[] {
  const seq = (r: NsxObject): number => (typeof r.sequence_number === 'number' ? r.sequence_number : 0);
  return [...rules].sort((a, b) => seq(a) - seq(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function page(all: NsxObject[], req: SimRequest): Record<string, unknown> {
  const size = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(req.query.get('page_size') ?? MAX_PAGE_SIZE) || MAX_PAGE_SIZE));
  const offset = Math.max(0, Number(req.query.get('cursor') ?? 0) || 0);
  const results = all.slice(offset, offset + size);
  const out: Record<string, unknown> = { results, result_count: all.length, sort_ascending: true };
  if (offset + size < all.length) out.cursor = String(offset + size);
  return out;
}

/** A UUID-shaped id derived from a path, so an edge node keeps its transport-node id across calls. */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
