// The VCD events a write publishes on the message bus (reference: vcd-api.md §9). VCD documents
// the envelope `{type, headers, payload}` with an encoded event
// `{eventId, type: com/vmware/vcloud/event/<object>/<action>, timestamp, operationSuccess, user,
// org, entity, ...}`; the exact networking event names are not documented, so the simulator derives
// them from the route: the entity is the first object the path names (an IP Space, an edge
// gateway...), a nested object (an allocation, a rule, a static route) is named in `subEntity`.
import { randomUUID } from 'node:crypto';
import type { VcdState } from './state.ts';
import { uuidOf } from './state.ts';
import type { TaskRecord } from './tasks.ts';

export interface VcdEvent {
  eventId: string;
  type: string;
  timestamp: string;
  operationSuccess: boolean;
  user: string;
  org: string;
  entity: string;
  entityType: string;
  subEntity?: string;
  task?: string;
}

export interface BusMessage {
  topic: string;
  envelope: { type: 'EVENT'; headers: Record<string, string>; payload: string };
}

/** Who wrote: the session's user and the org the request acted in. */
export interface Actor {
  orgId: string;
  userId: string;
}

export interface WriteInfo {
  method: string;
  /** The route pattern, e.g. /cloudapi/1.0.0/ipSpaces/{id}/allocations/{allocationId}. */
  pattern: string;
  params: Record<string, string>;
  actor: Actor;
  /** The task the write started (its owner names a created object). */
  task?: TaskRecord;
}

const API_PREFIX = /^\/cloudapi\/1\.0\.0\//;
const ACTIONS: Record<string, string> = { POST: 'create', PUT: 'modify', PATCH: 'modify', DELETE: 'delete' };

/** Singular object names of path collections ('ipSpaces' → 'ipSpace', 'staticRoutes' → 'staticRoute'). */
function singular(collection: string): string {
  return collection.endsWith('s') ? collection.slice(0, -1) : collection;
}

/** The URN type of an id (`urn:vcloud:gateway:…` → 'gateway'), or the collection's name for bare ids. */
function urnType(id: string, fallback: string): string {
  const parts = id.split(':');
  return parts.length >= 4 && parts[0] === 'urn' ? (parts[2] ?? fallback) : fallback;
}

/**
 * The event of a successful or failed entity write; undefined for writes that are not about an
 * entity (sessions, tokens, task actions).
 */
export function eventOfWrite(w: WriteInfo, now: number): VcdEvent | undefined {
  if (!API_PREFIX.test(w.pattern) || w.pattern.includes('/sessions')) return undefined;
  const segments = w.pattern.replace(API_PREFIX, '').split('/');
  let entity: string | undefined;
  let entityType = '';
  const sub: string[] = [];
  let subEntity: string | undefined;
  let trailing: string | undefined;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    const param = /^\{(.+)\}$/.exec(seg);
    if (param) {
      const id = w.params[param[1] as string] ?? '';
      const collection = segments[i - 1] ?? '';
      if (entity === undefined) {
        entity = id;
        entityType = urnType(id, singular(collection));
      } else {
        subEntity = id;
      }
      trailing = undefined;
      continue;
    }
    if (entity !== undefined) sub.push(singular(seg));
    trailing = seg;
  }
  let action = ACTIONS[w.method] ?? 'modify';
  if (entity === undefined) {
    // A create on a top-level collection: the task's owner is the new object.
    const owner = w.task?.owner.id;
    if (!owner) return undefined;
    entity = owner;
    entityType = urnType(owner, singular(segments[0] ?? ''));
  } else if (w.method === 'POST' && trailing && subEntity === undefined && sub.length === 1) {
    // An action on the entity (POST …/ipSpaces/{id}/allocate).
    action = trailing;
    sub.length = 0;
  }
  const object = [entityType, ...sub].join('/');
  return {
    eventId: randomUUID(),
    type: `com/vmware/vcloud/event/${object}/${action}`,
    timestamp: new Date(now).toISOString(),
    operationSuccess: !w.task?.error,
    user: w.actor.userId,
    org: w.actor.orgId,
    entity,
    entityType,
    ...(subEntity ? { subEntity } : {}),
    ...(w.task ? { task: `urn:vcloud:task:${w.task.uuid}` } : {}),
  };
}

/**
 * The orgs owning or using what a write names in its path (an IP Space, an allocation, an edge),
 * read before the write runs: a released allocation no longer says whose it was.
 */
export function ownersOfTarget(state: VcdState, params: Record<string, string>): string[] {
  const orgs = new Set<string>();
  for (const id of Object.values(params)) {
    const space = state.ipSpaces.get(id);
    if (space?.orgId) orgs.add(space.orgId);
    // Every org the space is assigned to uses it.
    if (space) for (const a of state.orgAssignments.values()) if (a.ipSpaceId === id) orgs.add(a.orgId);
    for (const s of state.ipSpaces.values()) {
      const a = s.allocations.get(id);
      if (a) orgs.add(a.orgId);
    }
    const edge = state.edges.get(id);
    if (edge) orgs.add(edge.orgId);
  }
  return [...orgs];
}

/** The orgs that see an event: the org the write acted in, and the orgs owning what it changed. */
export function orgsOfEvent(state: VcdState, e: VcdEvent, owners: string[]): string[] {
  const orgs = new Set<string>([e.org, ...owners, ...ownersOfTarget(state, { entity: e.entity })]);
  return [...orgs].filter((o) => state.orgs.has(o));
}

/** The messages of one event: one per org that sees it, on `publish/{orgUUID}/{userUUID}`. */
export function messagesOf(e: VcdEvent, orgIds: string[]): BusMessage[] {
  const payload = JSON.stringify(e);
  return orgIds.map((orgId) => ({
    topic: `publish/${uuidOf(orgId)}/${uuidOf(e.user)}`,
    envelope: {
      type: 'EVENT',
      headers: {
        'notification.type': e.type,
        'notification.entityType': e.entityType,
        'notification.entityUUID': uuidOf(e.entity),
        'notification.orgUUID': uuidOf(orgId),
        'notification.userUUID': uuidOf(e.user),
        'notification.operationSuccess': String(e.operationSuccess),
        ...(e.task ? { 'notification.taskUUID': uuidOf(e.task) } : {}),
      },
      payload,
    },
  }));
}
