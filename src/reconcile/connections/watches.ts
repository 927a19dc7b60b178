// Objects that name a VCD connection are looked at again when that connection changes (new
// credentials, a selector that now admits their namespace): one index by connection key and the
// two watches that map a connection back to the objects using it, for any controller.
import { ClusterVCDConnectionResource, VCDConnectionResource, type ConnectionRef } from '../../api/index.ts';
import { objectKey, type IndexFunc, type KubeObject, type Manager, type WatchDefinition } from '../../runtime/index.ts';
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
    watches: [
      { resource: ClusterVCDConnectionResource, keysFor: using('ClusterVCDConnection') },
      { resource: VCDConnectionResource, keysFor: using('VCDConnection') },
    ],
  };
}
