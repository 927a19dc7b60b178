// Objects that name a VCD connection are looked at again when that connection changes (new
// credentials, a selector that now admits their namespace, Ready or not): one index by connection
// key and the two watches that map a connection back to the objects using it, for any controller.
import { ClusterVCDConnectionResource, NSXConnectionResource, VCDConnectionResource, type ConnectionRef } from '../../api/index.ts';
import { findCondition, objectKey, type Condition, type IndexFunc, type KubeObject, type Manager, type WatchDefinition } from '../../runtime/index.ts';
import { connectionKeyOf } from './keys.ts';

export const BY_CONNECTION = 'byConnection';

export function connectionWatches<T extends KubeObject>(
  manager: Manager,
  controller: string,
  refOf: (obj: T) => ConnectionRef,
): { indexers: Record<string, IndexFunc<T>>; watches: WatchDefinition[] } {
  const using =
    (kind: ConnectionRef['kind']) =>
    (conn: unknown): string[] => {
      const meta = (conn as KubeObject).metadata ?? {};
      return manager.byIndex<T>(controller, BY_CONNECTION, connectionKeyOf(kind, meta.name ?? '', meta.namespace)).map(objectKey);
    };
  return {
    indexers: {
      [BY_CONNECTION]: (o) => {
        const ref = refOf(o);
        return [connectionKeyOf(ref.kind, ref.name, o.metadata?.namespace)];
      },
    },
    watches: vcdConnectionWatches((conn, kind) => using(kind)(conn)),
  };
}

/**
 * The watches of both VCD connection kinds, waking the keys `keysFor` maps a connection to
 * whenever it changes as connectionChanged says: for controllers whose keys are not the objects
 * themselves (claim groups, edges).
 */
export function vcdConnectionWatches(keysFor: (conn: unknown, kind: ConnectionRef['kind']) => string[]): WatchDefinition[] {
  return [
    { resource: ClusterVCDConnectionResource, keysFor: (c) => keysFor(c, 'ClusterVCDConnection'), changed: connectionChanged },
    { resource: VCDConnectionResource, keysFor: (c) => keysFor(c, 'VCDConnection'), changed: connectionChanged },
  ];
}

/** The watch of NSXConnections, waking the keys `keysFor` maps one to whenever it changes as connectionChanged says. */
export function nsxConnectionWatch(keysFor: (conn: KubeObject) => string[]): WatchDefinition {
  return { resource: NSXConnectionResource, keysFor: (c) => keysFor(c as KubeObject), changed: connectionChanged };
}

/**
 * Whether a connection changed in a way the objects using it act on: its spec (generation), its
 * labels, its deletion, or its Ready condition. A status write about anything else (the event
 * bus going away and back, a refreshed message) wakes none of them: the bus's own catch-up
 * source re-reads what it may have missed.
 */
export function connectionChanged(oldObj: unknown, newObj: unknown): boolean {
  const [a, b] = [oldObj as KubeObject & WithConditions, newObj as KubeObject & WithConditions];
  const ready = (o: WithConditions) => {
    const c = findCondition(o.status?.conditions, 'Ready');
    return `${c?.status ?? ''}/${c?.reason ?? ''}`;
  };
  return (
    a.metadata?.generation !== b.metadata?.generation ||
    a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp ||
    JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {}) ||
    ready(a) !== ready(b)
  );
}

interface WithConditions {
  status?: { conditions?: Condition[] };
}
